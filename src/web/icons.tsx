// Inline SVG icons (no icon font, nothing fetched): each takes the current text colour.
import type { JSX } from 'preact';

const paths: Record<string, string> = {
  agents: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8Zm-7 8a7 7 0 0 1 14 0',
  approvals: 'M12 3 4 6v6c0 4.4 3.4 8.2 8 9 4.6-.8 8-4.6 8-9V6l-8-3Zm-3.5 9 2.5 2.5 4.5-5',
  sessions: 'M4 5h16v14H4zM7 9l3 3-3 3m5 0h5',
  mode: 'M12 3v3m0 12v3M3 12h3m12 0h3M5.6 5.6l2.1 2.1m8.6 8.6 2.1 2.1M5.6 18.4l2.1-2.1m8.6-8.6 2.1-2.1M12 16a4 4 0 1 0 0-8 4 4 0 0 0 0 8Z',
  usage: 'M4 20V10m6 10V4m6 16v-7m4 7H2',
  notifications: 'M6 16V11a6 6 0 1 1 12 0v5l2 2H4l2-2Zm4 4h4',
  activity: 'M3 12h4l3-8 4 16 3-8h4',
  theme: 'M21 13A9 9 0 1 1 11 3a7 7 0 0 0 10 10Z',
  back: 'M15 5 8 12l7 7',
  logout: 'M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10',
};

export function Icon({ name, size = 22, ...rest }: { name: keyof typeof paths | string; size?: number } & JSX.SVGAttributes<SVGSVGElement>) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false" {...rest}>
      <path d={paths[name] ?? ''} />
    </svg>
  );
}
