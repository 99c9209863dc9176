// Keeps the documentation honest: every `iclinic-deploy ...` command line in
// README.md and part1.md must be one the compiled CLI accepts, and every
// relative Markdown link must point at a file (and heading) that exists.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { REPO_ROOT } from '../support/moto.js';

interface DocCommand {
  /** The subcommand, or undefined for `iclinic-deploy --help` and the like. */
  readonly subcommand: string | undefined;
  /** The word after it: the leaf of a nested command (`ci github`), or an argument. */
  readonly next: string | undefined;
  readonly flags: readonly string[];
  readonly line: number;
  readonly source: string;
}

function readDoc(name: string): string {
  return readFileSync(join(REPO_ROOT, name), 'utf8');
}

/** Lines outside fenced code blocks, with their 1-based line numbers. */
function proseLines(text: string): { line: number; text: string }[] {
  const result: { line: number; text: string }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((raw, index) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(raw)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker[0];
      else if (marker[0] === fence) fence = undefined;
      return;
    }
    if (fence === undefined) result.push({ line: index + 1, text: raw });
  });
  return result;
}

/** Code to scan for commands: every line of a fenced block and every inline code span. */
function codeFragments(text: string): { line: number; code: string }[] {
  const fragments: { line: number; code: string }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const marker = /^\s*(`{3,}|~{3,})/.exec(raw)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker[0];
      else if (marker[0] === fence) fence = undefined;
      return;
    }
    if (fence !== undefined) {
      fragments.push({ line, code: raw });
      return;
    }
    for (const span of raw.matchAll(/(`+)(.+?)\1/g)) fragments.push({ line, code: span[2] ?? '' });
  });
  return fragments;
}

/** Stops a command at a shell pipe, redirection, comment, `$(...)` end, quote or HTML tag. */
const COMMAND_END = /\s(?:\\?\||>|2>|&&|;|#)|[)"'`]|<br/;

/** `iclinic-deploy` as a program name, not as part of a tag such as `iclinic-deploy:stack`. */
const PROGRAM = /(?<![\w/:=.-])iclinic-deploy(?=\s|<br|$)/g;

function extractCommands(name: string): DocCommand[] {
  const commands: DocCommand[] = [];
  for (const { line, code } of codeFragments(readDoc(name))) {
    for (const match of code.matchAll(PROGRAM)) {
      const start = (match.index ?? 0) + match[0].length;
      let rest = code.slice(start);
      const end = COMMAND_END.exec(rest);
      if (end !== null) rest = rest.slice(0, end.index);
      const words = rest.split(/\s+/).filter((w) => w !== '' && w !== '\\');
      const first = words[0];
      const subcommand =
        first !== undefined && !first.startsWith('-')
          ? /^[a-z][a-z-]*/.exec(first)?.[0]
          : undefined;
      const flags = words
        .map((w) => /^--[a-z][a-z0-9-]*/.exec(w)?.[0])
        .filter((f): f is string => f !== undefined);
      const next = /^[a-z][a-z-]*$/.exec(words[1] ?? '')?.[0];
      commands.push({ subcommand, next, flags, line, source: `${match[0]}${rest}`.trim() });
    }
  }
  return commands;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats. */
function headingSlugs(text: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text: line } of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const plain = heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.add(count === 0 ? base : `${base}-${count}`);
  }
  return slugs;
}

function relativeLinks(name: string): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = [];
  for (const { line, text } of proseLines(readDoc(name))) {
    const withoutCode = text.replace(/(`+).+?\1/g, '');
    for (const match of withoutCode.matchAll(
      /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g,
    )) {
      const target = match[1] ?? '';
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto: ...
      links.push({ line, target });
    }
  }
  return links;
}

const helpCache = new Map<string, Promise<string>>();

/** The --help text of a subcommand (or of the program), after asserting it exits 0. */
function help(subcommand: string | undefined): Promise<string> {
  const key = subcommand ?? '';
  let cached = helpCache.get(key);
  if (cached === undefined) {
    cached = runCli(subcommand === undefined ? ['--help'] : [...key.split(' '), '--help']).then(
      (r) => {
        if (r.code !== 0) {
          throw new Error(
            `"iclinic-deploy ${key} --help" exited with ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`,
          );
        }
        // commander answers `unknown --help` with the program's help and exit 0,
        // so also require the help to be the subcommand's own.
        if (
          subcommand !== undefined &&
          !r.stdout.startsWith(`Usage: iclinic-deploy ${subcommand} `)
        ) {
          throw new Error(`"${subcommand}" is not an iclinic-deploy subcommand`);
        }
        return r.stdout;
      },
    );
    helpCache.set(key, cached);
  }
  return cached;
}

function mentionsFlag(helpText: string, flag: string): boolean {
  return new RegExp(`(^|[\\s,])${flag.replace(/[-]/g, '\\-')}(?![\\w-])`, 'm').test(helpText);
}

describe('the command lines in the documentation', () => {
  for (const doc of ['README.md', 'part1.md']) {
    it(`${doc}: every iclinic-deploy command uses a real subcommand and only flags its --help lists`, async () => {
      const commands = extractCommands(doc);
      expect(commands.length).toBeGreaterThan(0);
      const problems: string[] = [];
      const global = await help(undefined);
      for (const command of commands) {
        let own: string;
        try {
          own = await help(command.subcommand);
          // A command group (`ci`) lists its own commands: check the flags against the leaf's help.
          if (command.next !== undefined && /^Commands:$/m.test(own))
            own = await help(`${command.subcommand} ${command.next}`);
        } catch (error) {
          problems.push(`${doc}:${command.line} "${command.source}": ${(error as Error).message}`);
          continue;
        }
        for (const flag of command.flags) {
          if (!mentionsFlag(own, flag) && !mentionsFlag(global, flag)) {
            problems.push(
              `${doc}:${command.line} "${command.source}": ${flag} is not an option of ${command.subcommand ?? 'the program'}`,
            );
          }
        }
      }
      expect(problems).toEqual([]);
    });
  }
});

describe('the relative links in the documentation', () => {
  for (const doc of ['README.md', 'part1.md', 'part2.md']) {
    it(`${doc}: every relative link points at an existing file and, with #anchor, an existing heading`, () => {
      const problems: string[] = [];
      for (const { line, target } of relativeLinks(doc)) {
        const hash = target.indexOf('#');
        const pathPart = hash === -1 ? target : target.slice(0, hash);
        const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
        const file =
          pathPart === ''
            ? join(REPO_ROOT, doc)
            : resolve(dirname(join(REPO_ROOT, doc)), decodeURIComponent(pathPart));
        if (!existsSync(file)) {
          problems.push(`${doc}:${line} links to ${target}, but ${pathPart} does not exist`);
          continue;
        }
        if (anchor !== undefined && anchor !== '') {
          if (!file.endsWith('.md')) {
            problems.push(
              `${doc}:${line} links to ${target}, an anchor in a file that is not Markdown`,
            );
          } else if (!headingSlugs(readFileSync(file, 'utf8')).has(anchor.toLowerCase())) {
            problems.push(
              `${doc}:${line} links to ${target}, but no heading has the slug #${anchor}`,
            );
          }
        }
      }
      expect(problems).toEqual([]);
    });
  }
});
