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
import type { PackStore } from "../store/store.js";

/** What a node did with the stored pack of an id (see Registry.syncFromStore). */
export type SyncOutcome = "none" | "current" | "installed" | "refused";

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
  /** Where installs are shared with every node (the store, once it is open): see share(). */
  private shared: PackStore | undefined;
  /** The stored version of an id this node's self-test refused: not tried again until another is stored. */
  private readonly refused = new Map<string, string>();

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
   * From now on, every install (through the API or a regrade that publishes) is saved to `store` too,
   * which wakes every node that shares it (see syncFromStore). Before this, at start, nothing is shared.
   */
  share(store: PackStore): void {
    this.shared = store;
  }

  /**
   * Validates and self-tests a pack, saves it to the shared store, writes it to disk, then makes it
   * live. Installs of one id are serialised; the disk swap is two renames, so a crash leaves either
   * the old or the new folder. The store comes first: when it cannot be reached the install fails
   * and nothing changed anywhere (a pack live here but not stored would be undone at the next start).
   */
  async install(id: string, files: PackFiles): Promise<{ gradable: GradablePack; replaced: boolean; selfTest: SelfTestReport }> {
    return this.serialised(id, () => this.installNow(id, files));
  }

  /**
   * Makes the pack the store holds for `id` live on this node, if its version differs from the live
   * one: another node installed it (a wake-up), or it was installed while this node was down (at
   * start). The node validates and self-tests it itself, as a PUT would, writes it to its own
   * GRADERS_DIR, and does not save it back (it came from there). A pack this node's self-test
   * refuses is logged and the previous version stays live; that version is not tried again until
   * another one is stored. The store is read inside the id's serialised section, so a wake-up that
   * arrives after a later install on this node cannot bring back the older version it announced.
   */
  async syncFromStore(id: string): Promise<SyncOutcome> {
    const store = this.shared;
    if (store === undefined) return "none";
    return this.serialised(id, async (): Promise<SyncOutcome> => {
      const stored = await store.installedPack(id);
      if (stored === undefined) return "none";
      if (this.live.get(id)?.pack.hash === stored.version) return "current";
      if (this.refused.get(id) === stored.version) return "refused";
      const files: PackFiles = new Map(Object.entries(stored.files));
      const prepared = await preparePack(files, id, this.limits, { ...this.options, parse: parsePackInThread });
      if (prepared.gradable === undefined || prepared.selfTest === undefined) {
        this.refused.set(id, stored.version);
        // Which files, not the problems' text: a self-test's problems may quote hidden cases' values.
        const problemFiles = [...new Set(prepared.problems.map((p) => p.file))].slice(0, 10);
        this.logger.warn({ assignment: id, storedVersion: stored.version, liveVersion: this.live.get(id)?.pack.hash ?? null, problems: prepared.problems.length, problemFiles },
          "the stored pack (installed through the API) fails this node's validation or self-test; this node keeps its previous version");
        return "refused";
      }
      if (prepared.gradable.pack.hash !== stored.version) {
        // The stored version does not name these files (a node that hashes packs otherwise): installing
        // it would leave the live version unequal to the stored one, and every wake-up would install it again.
        this.refused.set(id, stored.version);
        this.logger.warn({ assignment: id, storedVersion: stored.version, computedVersion: prepared.gradable.pack.hash }, "the stored pack's version is not its files' hash; this node keeps its previous version");
        return "refused";
      }
      await this.persist(id, files);
      this.makeLive(id, prepared.gradable, prepared.selfTest);
      this.logger.info({ assignment: id, assignmentVersion: stored.version, installedAt: stored.installedAt }, "pack installed from the store (installed through the API on some node)");
      return "installed";
    });
  }

  private async serialised<T>(id: string, task: () => Promise<T>): Promise<T> {
    const previous = this.installing.get(id) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(task);
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
    await this.shared?.savePack({ id, version: prepared.gradable.pack.hash, files: Object.fromEntries(files), installedAt: Date.now() });
    await this.persist(id, files);
    const replaced = this.makeLive(id, prepared.gradable, prepared.selfTest);
    this.logger.info({ assignment: id, assignmentVersion: prepared.gradable.pack.hash, replaced }, "pack installed");
    return { gradable: prepared.gradable, replaced, selfTest: prepared.selfTest };
  }

  /** Swaps the live version of `id`; true when it replaced one. */
  private makeLive(id: string, gradable: GradablePack, selfTest: SelfTestReport): boolean {
    const old = this.live.get(id);
    if (old !== undefined) this.replaced.set(id, old);
    this.live.set(id, gradable);
    this.selfTests.set(gradable, selfTest);
    // This node's own install (or a later stored one) supersedes whatever it refused before.
    this.refused.delete(id);
    return old !== undefined;
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
