// Summarises V8 CPU profiles (from `bench/attempts.ts --profile DIR` or `node --cpu-prof`): self time
// by package and the hottest functions.
//
//   npx tsx bench/profile-summary.ts FILE.cpuprofile [--top 25] [--count]
//
// --count weighs every sample alike instead of by the time since the previous one. On a busy machine
// the main thread is often descheduled: the gap until it runs again is charged, by time, to whatever
// frame it stopped in (a socket write that woke PostgreSQL, typically), so counts are closer to CPU.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The package (or part of Node, or of the app) a frame belongs to. */
export function owner(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:'))
    return `node:${
      url
        .slice(5)
        .replace(/^internal\//, '')
        .split('/')[0]
    }`;
  const app = /\/(src|bench|test)\/(.*)$/.exec(url);
  if (app)
    return `app ${app[1]}/${app[2]!
      .split('/')
      .slice(0, app[1] === 'src' ? 1 : 2)
      .join('/')}`;
  return url;
}

export function summariseProfile(profile: Profile, top: number, byCount = false): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const delta = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + (byCount ? 1 : delta));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byOwner = new Map<string, number>();
  const byCaller = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, micros] of self) {
    const { callFrame } = byId.get(id)!;
    const pkg = owner(callFrame.url, callFrame.functionName);
    byOwner.set(pkg, (byOwner.get(pkg) ?? 0) + micros);
    // Native and Node-internal frames (socket writes, crypto, streams) charged to the package that called them.
    let charged = pkg;
    for (
      let up: number | undefined = id;
      up !== undefined && (charged === '(native)' || charged.startsWith('node:'));
      up = parent.get(up)
    ) {
      const frame = byId.get(up)!.callFrame;
      charged = owner(frame.url, frame.functionName);
    }
    byCaller.set(charged, (byCaller.get(charged) ?? 0) + micros);
    const line = callFrame.url ? `:${callFrame.lineNumber + 1}` : '';
    const fn = `${callFrame.functionName || '(anonymous)'}  ${pkg}${line}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
  }
  const busy = total - (byOwner.get('(idle)') ?? 0);
  const lines = [
    byCount
      ? `${total} samples, ${busy} not idle; shares of the samples not idle:`
      : `${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s not idle; shares of the non-idle time:`,
  ];
  const show = (entries: Map<string, number>, count: number) =>
    [...entries]
      .filter(([name]) => name !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, micros]) => `  ${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${name}`);
  lines.push(
    ...show(byOwner, 30),
    '',
    'the same with native and node: frames charged to the package that called them:',
    ...show(byCaller, 30),
    '',
    'hottest functions (self time):',
    ...show(byFunction, top),
  );
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, count: { type: 'boolean', default: false } },
  });
  if (positionals.length === 0) {
    console.error('usage: npx tsx bench/profile-summary.ts FILE.cpuprofile… [--top N] [--count]');
    process.exit(2);
  }
  for (const file of positionals) {
    console.log(`== ${file}`);
    console.log(summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(values.top), values.count));
    console.log();
  }
}
