/**
 * A small typed router over the History API: the path picks the view, the search parameters
 * hold every filter (so a filtered view is a link to share). Each view reads its parameters
 * with {@link useSearch} and a parser that names their types.
 */
import { useCallback, useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

const snapshot = () => window.location.pathname + window.location.search;

/** The current path and search, re-rendering on navigation. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(href, window.location.origin);
  return { path: url.pathname, search: url.searchParams };
}

/** Goes to `href` without a reload (`replace`: without a history entry, for filter edits). */
export function navigate(href: string, replace = false): void {
  if (replace) window.history.replaceState(null, '', href);
  else window.history.pushState(null, '', href);
  for (const listener of listeners) listener();
  if (!replace) window.scrollTo(0, 0);
}

type Params = Record<string, string | undefined>;

/**
 * The view's typed search parameters and a setter that merges a change into the URL
 * (empty values drop out).
 */
export function useSearch<T extends Params>(
  parse: (search: URLSearchParams) => T,
): [T, (change: Partial<T>) => void] {
  const { path, search } = useLocation();
  const value = parse(search);
  const set = useCallback(
    (change: Partial<T>) => {
      const next = new URLSearchParams(window.location.search);
      for (const [key, v] of Object.entries(change)) {
        if (v === undefined || v === '') next.delete(key);
        else next.set(key, String(v));
      }
      const text = next.toString();
      navigate(`${path}${text ? `?${text}` : ''}`, true);
    },
    [path],
  );
  return [value, set];
}

/** A link that navigates without a reload. */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const { onClick, ...rest } = props;
  return (
    <a
      {...rest}
      onClick={(event: MouseEvent<HTMLAnchorElement>) => {
        onClick?.(event);
        if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
          return;
        event.preventDefault();
        navigate(props.href);
      }}
    />
  );
}

/** One string parameter. */
export const str = (search: URLSearchParams, name: string): string | undefined =>
  search.get(name) ?? undefined;
