import { randomUUID } from "node:crypto";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Log } from "../logger.js";
import type { Limits } from "../config.js";
import type { GradablePack } from "./types.js";
import { readPackDir } from "./pack-files.js";
import type { PackFiles } from "./types.js";
import { parsePackInThread } from "./parse-thread.js";
import { PackError } from "./problems.js";
import { preparePack, type SelfTestOptions, type SelfTestReport } from "./self-test.js";
import { caseMatrix, type CaseMatrix } from "./matrix.js";

/**
 * The live packs, by assignment id. A pack object is immutable once live; replacing a pack swaps
 * the map entry, so a grading that already holds the old object finishes on the old version.
 */
export class Registry {
  private readonly live = new Map<string, GradablePack>();
  private readonly installing = new Map<string, Promise<unknown>>();
  private readonly replaced = new Map<string, GradablePack>();
  /** Each live version's self-test report, and its matrix once asked for: both die with the version. */
  private readonly selfTests = new WeakMap<GradablePack, SelfTestReport>();
  private readonly matrices = new WeakMap<GradablePack, CaseMatrix>();

  constructor(
    private readonly dir: string,
    private readonly limits: Limits,
    private readonly options: SelfTestOptions,
    private readonly logger: Log,
  ) {}

  get(id: string): GradablePack | undefined {
    return this.live.get(id);
  }

  /** The version the last install of `id` replaced, in this process (a regrade names the cases of gradings made with it). */
  previous(id: string): GradablePack | undefined {
    return this.replaced.get(id);
  }

  /**
   * The case matrix of a live pack's current version, from the self-test that made it live (no grading),
   * computed once per version.
   */
  matrix(id: string): CaseMatrix | undefined {
    const gradable = this.live.get(id);
    if (gradable === undefined) return undefined;
    const cached = this.matrices.get(gradable);
    if (cached !== undefined) return cached;
    const report = this.selfTests.get(gradable);
    if (report === undefined) return undefined;
    const matrix = caseMatrix(gradable, report);
    this.matrices.set(gradable, matrix);
    return matrix;
  }

  list(): GradablePack[] {
    return [...this.live.values()].sort((a, b) => a.pack.id.localeCompare(b.pack.id));
  }

  /** Loads and self-tests every pack folder; any problem in any pack stops the start. */
  async loadAll(): Promise<void> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`GRADERS_DIR ${this.dir} cannot be read (${error.code ?? error.message}): it must be a folder of packs`);
    });
    const folders = entries.filter((e) => e.isDirectory() && !e.name.startsWith(".")).map((e) => e.name).sort();
    const errors: PackError[] = [];
    for (const id of folders) {
      const started = Date.now();
      const prepared = await preparePack(await readPackDir(path.join(this.dir, id)), id, this.limits, this.options);
      if (prepared.gradable === undefined) {
        errors.push(new PackError(id, prepared.problems));
        continue;
      }
      this.live.set(id, prepared.gradable);
      if (prepared.selfTest !== undefined) this.selfTests.set(prepared.gradable, prepared.selfTest);
      this.logger.info({ assignment: id, assignmentVersion: prepared.gradable.pack.hash, cases: prepared.gradable.pack.cases.length, mutants: prepared.selfTest?.mutants.length, ms: Date.now() - started }, "pack loaded and self-tested");
    }
    if (errors.length > 0) throw new AggregatePackError(errors);
  }

  /**
   * Validates and self-tests a pack, writes it to disk, then makes it live. Installs of one id are
   * serialised; the disk swap is two renames, so a crash leaves either the old or the new folder.
   */
  async install(id: string, files: PackFiles): Promise<{ gradable: GradablePack; replaced: boolean; selfTest: SelfTestReport }> {
    const previous = this.installing.get(id) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.installNow(id, files));
    this.installing.set(id, run);
    try {
      return await run;
    } finally {
      if (this.installing.get(id) === run) this.installing.delete(id);
    }
  }

  /**
   * Validates and self-tests a pack exactly as `install` does, without writing or installing it: a
   * draft an instructor previews (a dry-run regrade). Throws PackError with the problems.
   */
  async prepare(id: string, files: PackFiles): Promise<{ gradable: GradablePack; selfTest: SelfTestReport }> {
    const prepared = await preparePack(files, id, this.limits, { ...this.options, parse: parsePackInThread });
    if (prepared.gradable === undefined || prepared.selfTest === undefined) throw new PackError(id, prepared.problems);
    return { gradable: prepared.gradable, selfTest: prepared.selfTest };
  }

  private async installNow(id: string, files: PackFiles): Promise<{ gradable: GradablePack; replaced: boolean; selfTest: SelfTestReport }> {
    // An upload is parsed off the event loop, so that a large pack does not delay other answers.
    const prepared = await preparePack(files, id, this.limits, { ...this.options, parse: parsePackInThread });
    if (prepared.gradable === undefined || prepared.selfTest === undefined) throw new PackError(id, prepared.problems);
    await this.persist(id, files);
    const old = this.live.get(id);
    const replaced = old !== undefined;
    if (old !== undefined) this.replaced.set(id, old);
    this.live.set(id, prepared.gradable);
    this.selfTests.set(prepared.gradable, prepared.selfTest);
    this.logger.info({ assignment: id, assignmentVersion: prepared.gradable.pack.hash, replaced }, "pack installed");
    return { gradable: prepared.gradable, replaced, selfTest: prepared.selfTest };
  }

  private async persist(id: string, files: PackFiles): Promise<void> {
    const token = randomUUID();
    const incoming = path.join(this.dir, `.${id}.incoming-${token}`);
    const retired = path.join(this.dir, `.${id}.old-${token}`);
    const target = path.join(this.dir, id);
    try {
      for (const [name, content] of files) {
        const file = path.join(incoming, ...name.split("/"));
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, content, "utf8");
      }
      let hadOld = true;
      await rename(target, retired).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error;
        hadOld = false;
      });
      await rename(incoming, target);
      if (hadOld) await rm(retired, { recursive: true, force: true });
    } finally {
      await rm(incoming, { recursive: true, force: true });
    }
  }
}

export class AggregatePackError extends Error {
  constructor(readonly errors: PackError[]) {
    super(errors.map((e) => e.message).join("\n"));
  }
}
