// postgres-js keeps its connections in queues (busy, open, …). Under steady load a busy queue
// never empties: each pipelined query shifts a connection out and pushes it back, and upstream
// 3.4.9 left one hole per query behind, which every later `remove` scanned (a process slowed
// down the longer it ran, and held the holes in memory). patches/postgres@3.4.9.patch compacts
// the queue; this pins that the patched queue still behaves as a queue across compactions.
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

interface Queue<T> {
  readonly length: number;
  push(x: T): T;
  shift(): T | undefined;
  remove(x: T): T | null;
}

const entry = createRequire(import.meta.url).resolve("postgres");
const { default: Queue } = (await import(pathToFileURL(join(dirname(entry), "queue.js")).href)) as {
  default: <T>() => Queue<T>;
};

describe("postgres-js connection queue (patched)", () => {
  it("stays first in, first out through a long run of shift-and-push-back, with removals", () => {
    const queue = Queue<string>();
    queue.push("a");
    queue.push("b");
    queue.push("c");
    const order: string[] = [];
    for (let round = 0; round < 10_000; round++) {
      const next = queue.shift()!;
      order.push(next);
      // What a busy connection does when it takes one more pipelined query.
      expect(queue.remove(next)).toBeNull();
      queue.push(next);
      expect(queue.length).toBe(3);
    }
    expect(order.slice(0, 6)).toEqual(["a", "b", "c", "a", "b", "c"]);
    expect(order.slice(-3)).toEqual(["b", "c", "a"]);
    // A connection leaving the queue (it went idle) is found wherever the queue stands.
    expect(queue.remove("c")).toBe("c");
    expect(queue.length).toBe(2);
    expect([queue.shift(), queue.shift(), queue.shift()]).toEqual(["b", "a", undefined]);
    expect(queue.length).toBe(0);
  });

  it("finds and removes any live entry after many compactions", () => {
    const queue = Queue<number>();
    for (let value = 0; value < 1000; value++) queue.push(value);
    for (let value = 0; value < 900; value++) expect(queue.shift()).toBe(value);
    expect(queue.length).toBe(100);
    expect(queue.remove(950)).toBe(950);
    expect(queue.remove(5)).toBeNull();
    const rest: number[] = [];
    while (queue.length) rest.push(queue.shift()!);
    expect(rest).toEqual(
      [...Array.from({ length: 100 }, (_, i) => 900 + i)].filter((v) => v !== 950),
    );
  });
});
