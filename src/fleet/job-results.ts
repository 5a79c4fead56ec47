/**
 * Each device's latest scheduled-job results (issue 18), as the agents publish them retained on
 * `<base>/<device>/jobs/<job>/result`. Kept in memory only: the broker keeps them retained, so a
 * restarted controller has them back as soon as it subscribes. An empty retained payload (the
 * topic cleared) removes the entry; a message that does not match the protocol schema is logged
 * and ignored, as the registry does with status and metrics.
 */
import { checker, jobResultSchema, parseJobResultTopic, type JobResultMessage } from '../protocol/index.js';

const key = (device: string, job: string) => `${device}/${job}`;

export class JobResults {
  private readonly results = new Map<string, JobResultMessage>();
  private readonly isResult = checker<JobResultMessage>(jobResultSchema, 'the job result');

  constructor(private readonly log: (line: string) => void = () => {}) {}

  /** Reads one message; false when the topic is not a job result's (someone else's to read). */
  ingest(base: string, topic: string, payload: Buffer): boolean {
    const t = parseJobResultTopic(base, topic);
    if (!t) return false;
    if (payload.length === 0) {
      this.results.delete(key(t.device, t.job));
      return true;
    }
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      this.log(`job result on ${topic} ignored: not JSON`);
      return true;
    }
    if (!this.isResult(body)) {
      this.log(`job result on ${topic} ignored: ${this.isResult.problems().join('; ')}`);
      return true;
    }
    // the topic is the slot a cleared retained message empties: a body naming another one would linger there
    if (body.device !== t.device || body.job !== t.job) {
      this.log(`job result on ${topic} ignored: it names device ${JSON.stringify(body.device)}, job ${JSON.stringify(body.job)}`);
      return true;
    }
    this.results.set(key(t.device, t.job), body);
    return true;
  }

  /** The latest result of every job, by device then job; one device's with `device`. */
  list(device?: string): JobResultMessage[] {
    return [...this.results.values()]
      .filter((r) => device === undefined || r.device === device)
      .sort((a, b) => (a.device === b.device ? cmp(a.job, b.job) : cmp(a.device, b.device)));
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
