import { existsSync, readFileSync, writeFileSync } from 'node:fs';

// docs/benchmarks.md is shared: each bench owns one section between markers and replaces only it.

export function writeDocsSection(name: string, markdown: string, file = 'docs/benchmarks.md'): void {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${begin}\n${markdown.trim()}\n${end}`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nMeasured on the development machine (2 shared cores); rerun the named command to refresh a section.\n';
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  const next = from !== -1 && to > from ? `${text.slice(0, from)}${block}${text.slice(to + end.length)}` : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}
