/**
 * Where `render` may write, and how. It writes only into a directory that is missing, empty or a previous
 * render (marked by MARKER, listing the files it wrote); anything else is refused and left untouched.
 * The new render is written beside the target and swapped in, one render at a time per directory (a lock
 * file holding the writer's pid), and its temporary files are removed when the process is interrupted. A
 * file whose text is the same as in the previous render is a hard link to it rather than a new copy.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The file naming a directory as a render and listing what it wrote. */
export const MARKER = ".aiwp-render.json";
const MARKER_TOOL = "aiwp-estate render";

/** A directory `render` refuses: the message says why and that nothing was written. */
export class OutDirError extends Error {}

interface Marker {
  tool: string;
  stack: string;
  files: string[];
}

function readMarker(dir: string): Marker | undefined {
  try {
    const marker = JSON.parse(fs.readFileSync(path.join(dir, MARKER), "utf8")) as Marker;
    return marker.tool === MARKER_TOOL && Array.isArray(marker.files) ? marker : undefined;
  } catch {
    return undefined;
  }
}

/** Every file and symbolic link below `dir`, relative, with "/" separators. */
function listTree(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

const isSameOrAncestor = (dir: string, of: string) => {
  const rel = path.relative(dir, of);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
};

/**
 * Throws OutDirError unless `target` may receive a render. `root` is the project directory and `cwd` the
 * caller's directory: neither, nor any ancestor of the project, nor the home directory is ever a target.
 */
export function checkTarget(target: string, root: string, cwd: string): void {
  const dir = path.resolve(target);
  const refuse: (why: string) => never = (why) => {
    throw new OutDirError(`--out ${dir}: ${why}; nothing was written`);
  };
  if (isSameOrAncestor(dir, root)) refuse("is the project directory or one of its parents");
  if (dir === path.resolve(cwd)) refuse("is the current directory; name a new directory such as out/prod");
  if (dir === os.homedir() || dir === path.parse(dir).root) refuse("is the home or root directory");
  if (
    isSameOrAncestor(path.join(root, ".git"), dir) ||
    isSameOrAncestor(path.join(root, "node_modules"), dir)
  )
    refuse("is inside .git or node_modules");
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch {
    for (let up = path.dirname(dir); ; up = path.dirname(up)) {
      if (fs.existsSync(up)) {
        if (!fs.statSync(up).isDirectory()) refuse(`${up} is a file, not a directory`);
        return;
      }
      if (path.dirname(up) === up) return;
    }
  }
  if (stat.isSymbolicLink()) refuse("is a symbolic link; name the directory itself");
  if (!stat.isDirectory()) refuse("is a file, not a directory");
  const entries = fs.readdirSync(dir);
  if (entries.length === 0) return;
  const marker = readMarker(dir);
  if (!marker) {
    const shown =
      entries.slice(0, 3).join(", ") + (entries.length > 3 ? `, ... (${entries.length} entries)` : "");
    refuse(
      `is not empty and is not a previous render (it has no ${MARKER}; it holds ${shown}). Name a new or empty directory`,
    );
  }
  const written = new Set([...marker.files, MARKER]);
  const foreign = listTree(dir).filter((f) => !written.has(f));
  if (foreign.length > 0) {
    refuse(
      `is a previous render but also holds files render did not write (${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", ..." : ""}); move them away first`,
    );
  }
}

// Paths this process created and must remove if it is interrupted.
const transient = new Set<string>();
let handlersInstalled = false;

function removeTransient(): void {
  for (const p of transient) fs.rmSync(p, { recursive: true, force: true });
  transient.clear();
}

/** Removes `p` if the process is interrupted before the returned function is called. */
export function removeOnInterrupt(p: string): () => void {
  installInterruptCleanup();
  transient.add(p);
  return () => void transient.delete(p);
}

// A signal that arrives while files are being written waits for the write in flight, so that no
// pending file operation recreates what the cleanup removed.
let writing = false;
let interrupted: { signal: string; code: number } | undefined;

function exitInterrupted(how: { signal: string; code: number }): never {
  removeTransient();
  console.error(`render: interrupted (${how.signal}); the previous output is unchanged`);
  process.exit(how.code);
}

/** Removes the lock and temporary directories on SIGINT/SIGTERM, then exits 128 + signal number. */
export function installInterruptCleanup(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.on(signal, () => {
      if (writing) interrupted = { signal, code };
      else exitInterrupted({ signal, code });
    });
  }
  process.on("exit", removeTransient);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

const lockPath = (dir: string) => path.join(path.dirname(dir), `.${path.basename(dir)}.render-lock`);

/**
 * Takes the directory's lock (a file beside it holding this process's pid); a lock whose process is gone
 * is taken over. Throws OutDirError while another render holds it. Returns the release function.
 */
export function acquireLock(target: string): () => void {
  const dir = path.resolve(target);
  const parent = path.dirname(dir);
  const created = fs.mkdirSync(parent, { recursive: true });
  const lock = lockPath(dir);
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
      const pid = Number.parseInt(fs.readFileSync(lock, "utf8"), 10);
      if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) {
        throw new OutDirError(
          `--out ${dir}: another render (pid ${pid}) is writing this directory; wait for it to finish (lock ${lock})`,
        );
      }
      fs.rmSync(lock, { force: true });
    }
  }
  transient.add(lock);
  return () => {
    transient.delete(lock);
    fs.rmSync(lock, { force: true });
    // Leave no empty parent behind that this render created only for its lock.
    if (created && fs.existsSync(dir) === false) {
      for (let d = parent; isSameOrAncestor(created, d); d = path.dirname(d)) {
        try {
          fs.rmdirSync(d);
        } catch {
          break;
        }
      }
    }
  };
}

/** Removes temporary directories left beside `dir` by renders that were killed outright. */
function removeStale(dir: string): void {
  const parent = path.dirname(dir);
  const prefix = `.${path.basename(dir)}.`;
  for (const entry of fs.readdirSync(parent)) {
    const m = /^(?:tmp|old)-(\d+)-[0-9a-f]+$/.exec(
      entry.startsWith(prefix) ? entry.slice(prefix.length) : "",
    );
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) {
      fs.rmSync(path.join(parent, entry), { recursive: true, force: true });
    }
  }
}

function scratch(dir: string, kind: "tmp" | "old"): string {
  const name = `.${path.basename(dir)}.${kind}-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
  return path.join(path.dirname(dir), name);
}

function markerOf(stack: string, files: Map<string, string>): string {
  const marker: Marker = { tool: MARKER_TOOL, stack, files: [...files.keys()].sort() };
  return `${JSON.stringify(marker, null, 2)}\n`;
}

/**
 * Where the previous render in `dir` holds a file a new render may reuse: only files its marker lists
 * (checkTarget has verified it holds nothing else); none when `dir` is missing or empty.
 */
function previousRender(dir: string): (relative: string) => string | undefined {
  const files = new Set(readMarker(dir)?.files ?? []);
  return (relative) => (files.has(relative) ? path.join(dir, relative) : undefined);
}

/**
 * Puts `content` at `file` in the staging directory. When the previous render holds the same text at the
 * same place, the file is a hard link to it: no data is written, and the blocks the previous render used
 * stay in use when it is removed after the swap. A file system without hard links gets a copy.
 */
function reusePrevious(file: string, content: string, previous: string | undefined): boolean {
  if (previous === undefined) return false;
  try {
    const stat = fs.lstatSync(previous);
    if (!stat.isFile() || stat.size !== Buffer.byteLength(content)) return false;
    if (fs.readFileSync(previous, "utf8") !== content) return false;
    fs.linkSync(previous, file);
    return true;
  } catch {
    return false;
  }
}

/** Moves the finished `staging` directory to `dir`, replacing a previous render there. */
function swapIn(staging: string, dir: string, root: string, cwd: string): void {
  checkTarget(dir, root, cwd);
  if (fs.existsSync(dir)) {
    const old = scratch(dir, "old");
    fs.renameSync(dir, old);
    fs.renameSync(staging, dir);
    transient.delete(staging);
    // checkTarget has just verified that it holds only files a render wrote.
    fs.rmSync(old, { recursive: true, force: true });
  } else {
    fs.renameSync(staging, dir);
    transient.delete(staging);
  }
}

const WRITE_BATCH = 16;

export interface WriteOptions {
  /** Stack name recorded in the marker. */
  stack: string;
  /** Project directory and caller's directory (see checkTarget). */
  root: string;
  cwd: string;
}

/** Writes all files into a fresh directory beside `target`, then swaps it in: never half-written. */
export async function writeRender(
  target: string,
  files: Map<string, string>,
  options: WriteOptions,
): Promise<void> {
  const dir = path.resolve(target);
  checkTarget(dir, options.root, options.cwd);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  removeStale(dir);
  const staging = scratch(dir, "tmp");
  fs.mkdirSync(staging);
  transient.add(staging);
  writing = true;
  try {
    for (const parent of new Set(
      [...files.keys()].map((relative) => path.dirname(path.join(staging, relative))),
    )) {
      fs.mkdirSync(parent, { recursive: true });
    }
    // Several files in flight at a time; a signal is honoured between batches.
    const previous = previousRender(dir);
    const entries = [...files];
    for (let i = 0; i < entries.length && !interrupted; i += WRITE_BATCH) {
      await Promise.all(
        entries.slice(i, i + WRITE_BATCH).map(async ([relative, content]) => {
          const file = path.join(staging, relative);
          if (!reusePrevious(file, content, previous(relative))) await fs.promises.writeFile(file, content);
        }),
      );
    }
    if (!interrupted) {
      fs.writeFileSync(path.join(staging, MARKER), markerOf(options.stack, files));
      swapIn(staging, dir, options.root, options.cwd);
    }
  } finally {
    writing = false;
    if (transient.has(staging)) {
      fs.rmSync(staging, { recursive: true, force: true });
      transient.delete(staging);
    }
    if (interrupted) exitInterrupted(interrupted);
  }
}

/** The synchronous form of writeRender, for callers outside the CLI. */
export function writeRenderSync(target: string, files: Map<string, string>, options: WriteOptions): void {
  const dir = path.resolve(target);
  checkTarget(dir, options.root, options.cwd);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const staging = scratch(dir, "tmp");
  fs.mkdirSync(staging);
  transient.add(staging);
  try {
    const previous = previousRender(dir);
    for (const [relative, content] of files) {
      const file = path.join(staging, relative);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      if (!reusePrevious(file, content, previous(relative))) fs.writeFileSync(file, content);
    }
    fs.writeFileSync(path.join(staging, MARKER), markerOf(options.stack, files));
    swapIn(staging, dir, options.root, options.cwd);
  } finally {
    if (transient.has(staging)) {
      fs.rmSync(staging, { recursive: true, force: true });
      transient.delete(staging);
    }
  }
}
