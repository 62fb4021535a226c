// A function of ours, as source to run inside a page. Under tsx (the CLI) esbuild keeps function
// names by wrapping them in calls to a `__name` helper that does not exist in the page: without
// this shim the whole script throws at its first named function and silently does nothing.
export function pageSource<A>(fn: (arg: A) => void, arg: A): string {
  return `(() => { const __name = (f) => f; (${fn.toString()})(${JSON.stringify(arg)}); })();`;
}
