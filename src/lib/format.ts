// Numbers for people, shared by the usage tables of the CLI and the dashboard.

/** 999, 12.3k, 350k, 1.2M, 3.4B. */
export function compactNumber(n: number): string {
  const a = Math.abs(n);
  const unit = (div: number, suffix: string) => {
    const v = n / div;
    return `${Math.abs(v) < 10 ? Math.round(v * 10) / 10 : Math.round(v)}${suffix}`;
  };
  if (a < 1000) return String(Math.round(n));
  if (a < 999_500) return unit(1000, 'k');
  if (a < 999_500_000) return unit(1_000_000, 'M');
  return unit(1_000_000_000, 'B');
}
