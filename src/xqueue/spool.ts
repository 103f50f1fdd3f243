import Database from "better-sqlite3";

/**
 * Where a pulled submission waits until XQueue has accepted its result. XQueue hands a submission out
 * once and only takes it back after a delay, so a connector that crashed with a submission in memory
 * would leave the student waiting: every submission is written here (synchronously, fsync'd) before
 * it is graded, its reply is written once graded, and it leaves only when put_result succeeded or
 * XQueue said the result can never be taken.
 */
export interface SpooledSubmission {
  header: string;
  body: string;
  files: string;
  reply: string | null;
  pulledAt: number;
}

export class Spool {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    // FULL: a pulled submission must survive a power cut, not only a crash of this process.
    this.db.pragma("synchronous = FULL");
    this.db.exec(`CREATE TABLE IF NOT EXISTS pulled (
      header TEXT PRIMARY KEY,
      body TEXT NOT NULL,
      files TEXT NOT NULL,
      reply TEXT,
      pulled_at INTEGER NOT NULL
    )`);
  }

  /** Keeps a pulled submission; pulling the same one (same header, same key) twice keeps it once. */
  add(header: string, body: string, files: string): void {
    this.db.prepare("INSERT OR IGNORE INTO pulled (header, body, files, reply, pulled_at) VALUES (?, ?, ?, NULL, ?)").run(header, body, files, Date.now());
  }

  setReply(header: string, reply: string): void {
    this.db.prepare("UPDATE pulled SET reply = ? WHERE header = ?").run(reply, header);
  }

  remove(header: string): void {
    this.db.prepare("DELETE FROM pulled WHERE header = ?").run(header);
  }

  /** What is waiting, oldest first. */
  pending(): SpooledSubmission[] {
    return (this.db.prepare("SELECT header, body, files, reply, pulled_at AS pulledAt FROM pulled ORDER BY pulled_at, rowid").all() as SpooledSubmission[]);
  }

  close(): void {
    this.db.close();
  }
}
