// A hash router: #/agents, #/agents/<id>, #/usage … The server answers /app/ with one page,
// and a hash never reaches it; the tab registry (tabs.tsx) says which tabs exist.
import { signal } from '@preact/signals';

export interface Route {
  tab: string;
  /** The item a tab shows in detail (an agent's id), or null. */
  id: string | null;
}

function parse(hash: string): Route {
  const [, tab, id] = hash.replace(/^#/, '').split('/');
  return { tab: tab || '', id: id ? decodeURIComponent(id) : null };
}

export const route = signal<Route>(parse(location.hash));
addEventListener('hashchange', () => (route.value = parse(location.hash)));

export const href = (tab: string, id?: string | null): string => `#/${tab}${id ? `/${encodeURIComponent(id)}` : ''}`;
