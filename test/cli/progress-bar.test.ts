/**
 * The CLI's progress bar, on an injected clock: quiet at first, moving within a
 * long tensor, the time left shown once it means something.
 */
import { formatDuration, progressBar } from "../../src/cli/progress-bar.js";

/** A bar on a fake terminal with a clock the test moves; `lines()` is what stands on screen after each draw. */
function fakeBar(): { bar: ReturnType<typeof progressBar>; at: (ms: number) => void; drawn: string[] } {
  let time = 1_000_000;
  const drawn: string[] = [];
  const bar = progressBar({ stderr: (t) => drawn.push(t), stderrIsTty: true, now: () => time }, "tensors");
  return {
    bar,
    at: (ms) => {
      time = 1_000_000 + ms;
    },
    drawn,
  };
}

describe("progressBar", () => {
  test("draws nothing in the first half second, nor when stderr is not a terminal", () => {
    const { bar, at, drawn } = fakeBar();
    at(100);
    bar.onProgress?.({ done: 1, total: 10 });
    expect(drawn).toEqual([]);
    expect(progressBar({ stderr: () => undefined }, "tensors").onProgress).toBeUndefined();
  });

  test("moves within a tensor that reports its fraction (it stood still)", () => {
    const { bar, at, drawn } = fakeBar();
    at(600);
    bar.onProgress?.({ done: 0, total: 2 });
    bar.onProgress?.({ done: 0, total: 2, fraction: 0.5 });
    expect(drawn).toEqual([`\r[${" ".repeat(30)}] 0/2 tensors`, `\r[${"#".repeat(8)}${" ".repeat(22)}] 0/2 tensors`]);
  });

  test("shows the time left from the time so far and the part done, once both mean something", () => {
    const { bar, at, drawn } = fakeBar();
    at(1000);
    bar.onProgress?.({ done: 1, total: 4 }); // too early for a rate
    at(3000);
    bar.onProgress?.({ done: 1, total: 4, fraction: 0.5 }); // 3/8 done in 3 s: 5 s left
    at(4000);
    bar.onProgress?.({ done: 3, total: 4 }); // 3/4 in 4 s: 1.33 s left
    expect(drawn).toEqual([
      `\r[${"#".repeat(8)}${" ".repeat(22)}] 1/4 tensors`,
      `\r[${"#".repeat(11)}${" ".repeat(19)}] 1/4 tensors, 5 s left`,
      `\r[${"#".repeat(23)}${" ".repeat(7)}] 3/4 tensors, 2 s left`,
    ]);
    bar.finish();
    expect(drawn.at(-1)).toBe("\n");
  });

  test("clears what a longer line left behind, and does not redraw the same line", () => {
    const { bar, at, drawn } = fakeBar();
    at(5000);
    bar.onProgress?.({ done: 5, total: 100 });
    bar.onProgress?.({ done: 5, total: 100 });
    bar.onProgress?.({ done: 100, total: 100 });
    expect(drawn.length).toBe(2);
    expect(drawn[0]).toMatch(/ 5\/100 tensors, 1 min 35 s left$/);
    expect(drawn[1]).toMatch(/^\r\[#{30}\] 100\/100 tensors +$/);
    expect((drawn[1] as string).length).toBe((drawn[0] as string).length);
  });

  test("formats durations in the two largest whole units", () => {
    expect([formatDuration(400), formatDuration(59_000), formatDuration(185_000), formatDuration(7_800_000)]).toEqual([
      "1 s",
      "59 s",
      "3 min 5 s",
      "2 h 10 min",
    ]);
  });
});
