// Dark by default, light on request; kept in localStorage and set on <html data-theme> before
// the first render (an inline script would break the page's content security policy).
import { signal } from '@preact/signals';

export type Theme = 'dark' | 'light';
const KEY = 'token-api:theme';

function stored(): Theme {
  try {
    return localStorage.getItem(KEY) === 'light' ? 'light' : 'dark';
  } catch {
    return 'dark';
  }
}

export const theme = signal<Theme>(stored());

export function applyTheme(t: Theme = theme.value): void {
  document.documentElement.dataset.theme = t;
  document.querySelector('meta[name=theme-color]')?.setAttribute('content', t === 'light' ? '#f6f6f8' : '#0b0b0c');
}

export function toggleTheme(): void {
  theme.value = theme.value === 'dark' ? 'light' : 'dark';
  try {
    localStorage.setItem(KEY, theme.value);
  } catch {
    // not kept: the choice lasts until the page reloads
  }
  applyTheme();
}
