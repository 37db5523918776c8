// A view loaded on demand (its own chunk: the usage charts now, the terminal view later). When
// the chunk is gone (a newer build replaced the one this page was loaded with), the page is
// reloaded once to pick up the new build.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

const RELOADED = 'token-api:reloaded-for-chunk';

export function Lazy<P extends object>({ load, props }: { load: () => Promise<ComponentType<P>>; props: P }) {
  const [View, setView] = useState<ComponentType<P> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    load().then(
      (c) => {
        sessionStorage.removeItem(RELOADED);
        if (live) setView(() => c);
      },
      (e: Error) => {
        if (!sessionStorage.getItem(RELOADED) && navigator.onLine) {
          sessionStorage.setItem(RELOADED, '1');
          location.reload();
          return;
        }
        if (live) setError(e.message);
      },
    );
    return () => {
      live = false;
    };
  }, [load]);
  if (error) return <p role="alert">This view could not be loaded ({error}); it needs token-api to be reachable once.</p>;
  return View ? <View {...props} /> : <p aria-busy="true">Loading…</p>;
}
