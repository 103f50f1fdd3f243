import t from "tap";
import { nextAttempt } from "../../src/webhooks/dispatcher.js";
import { callbackUrlProblem } from "../../src/webhooks/callback-url.js";

t.test("retries follow the schedule with ±20% jitter, the last delay repeats, and they stop after the retry period", async (t) => {
  const options = { retryMs: [5000, 30000, 3_600_000], retryHours: 24 };
  t.equal(nextAttempt(options, 1, 0, 0, () => 0.5), 5000, "the first retry after 5 s");
  t.equal(nextAttempt(options, 2, 0, 0, () => 0.5), 30000);
  t.equal(nextAttempt(options, 3, 0, 0, () => 0.5), 3_600_000);
  t.equal(nextAttempt(options, 9, 0, 0, () => 0.5), 3_600_000, "then hourly");
  t.equal(nextAttempt(options, 1, 0, 0, () => 0), 4000, "jitter down to -20%");
  t.equal(nextAttempt(options, 1, 0, 0, () => 1), 6000, "jitter up to +20%");
  const dayAndAHalfHour = 24 * 3_600_000 - 1_800_000;
  t.equal(nextAttempt(options, 30, 0, dayAndAHalfHour, () => 0.5), null, "past 24 h after the first attempt: given up");
  t.equal(nextAttempt(options, 30, 0, 20 * 3_600_000, () => 0.5), 21 * 3_600_000, "within 24 h: one more");
});

t.test("a callback host must be listed; a bare host allows any port, host:port only that port", async (t) => {
  const hosts = ["hooks.example.edu", "127.0.0.1:8080"];
  t.equal(callbackUrlProblem("https://hooks.example.edu/x", hosts), undefined);
  t.equal(callbackUrlProblem("http://HOOKS.example.edu:9000/x", hosts), undefined);
  t.equal(callbackUrlProblem("http://127.0.0.1:8080/x", hosts), undefined);
  t.match(callbackUrlProblem("http://127.0.0.1:8081/x", hosts), /127\.0\.0\.1:8081 is not listed/);
  t.match(callbackUrlProblem("http://127.0.0.1/x", hosts), /127\.0\.0\.1:80 is not listed/);
  t.match(callbackUrlProblem("https://hooks.example.edu.evil.test/x", hosts), /not listed/);
  t.match(callbackUrlProblem("ftp://hooks.example.edu/x", hosts), /only http and https/);
  t.match(callbackUrlProblem("https://a:b@hooks.example.edu/x", hosts), /credentials/);
  t.match(callbackUrlProblem("/relative", hosts), /not an absolute URL/);
  t.match(callbackUrlProblem("https://hooks.example.edu/x", []), /not listed/, "an empty list allows nothing");
});
