import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export const BENCHMARKS_DOC = new URL('../docs/benchmarks.md', import.meta.url);

const PREAMBLE = [
  '# Benchmarks',
  '',
  'Figures on this page come from the `npm run bench*` scripts, each section from one run on the machine it names;',
  'rerun the script to refresh a section. Only compare figures taken on the same machine.',
  '',
].join('\n');

export function machine(): string {
  const cpu = cpus();
  const gib = totalmem() / 2 ** 30;
  return `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${gib.toFixed(1)} GiB RAM, Node ${process.version} (${process.platform}/${process.arch})`;
}

/** Splits a page into what precedes the first `## ` heading and its `## ` sections (headings in code fences do not count). */
function sections(text: string): { head: string; parts: { title: string; body: string }[] } {
  const parts: { title: string; body: string }[] = [];
  const head: string[] = [];
  let current: { title: string; lines: string[] } | undefined;
  let fenced = false;
  const flush = () => {
    if (current) parts.push({ title: current.title, body: current.lines.join('\n') });
  };
  for (const line of text.split('\n')) {
    if (/^(```|~~~)/.test(line)) fenced = !fenced;
    if (!fenced && line.startsWith('## ')) {
      flush();
      current = { title: line.slice(3).trim(), lines: [line] };
    } else if (current) current.lines.push(line);
    else head.push(line);
  }
  flush();
  return { head: head.join('\n'), parts };
}

/**
 * Writes `## title` with `body` into docs/benchmarks.md: replaces that section if present,
 * otherwise appends it; other sections are kept as they are.
 */
export function writeSection(title: string, body: string, file: URL = BENCHMARKS_DOC): void {
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const { head, parts } = sections(existing);
  const section = `## ${title}\n\n${body.trim()}\n`;
  const index = parts.findIndex((part) => part.title === title);
  const kept = parts.map((part) => `${part.body.trimEnd()}\n`);
  if (index >= 0) kept[index] = section;
  else kept.push(section);
  const intro = head.trim().startsWith('# Benchmarks') ? `${head.trimEnd()}\n` : PREAMBLE;
  writeFileSync(file, `${intro}\n${kept.join('\n')}`);
}
