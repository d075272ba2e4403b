import { describe, expect, it } from 'vitest';
import { BoundedBatchQueue, QUEUE_CLOSED } from '../../src/pipeline/bounded-batch-queue.js';

describe('BoundedBatchQueue', () => {
  it('makes a producer wait while the held weight is at capacity, and lets it go when the consumer takes', async () => {
    const queue = new BoundedBatchQueue<string>(10);
    expect(await queue.put('a', 6)).toBe(true);
    let secondDone = false;
    const second = queue.put('b', 6).then((ok) => {
      secondDone = true;
      return ok;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(secondDone).toBe(false);
    expect(queue.heldWeight).toBe(6);
    expect(await queue.take(0)).toBe('a');
    expect(await second).toBe(true);
    expect(queue.heldWeight).toBe(6);
    expect(await queue.take(0)).toBe('b');
  });

  it('admits one item heavier than the capacity when empty (never a deadlock)', async () => {
    const queue = new BoundedBatchQueue<string>(5);
    expect(await queue.put('huge', 50)).toBe(true);
    expect(queue.heldWeight).toBe(50);
  });

  it('take times out with null, then returns QUEUE_CLOSED after close once drained', async () => {
    const queue = new BoundedBatchQueue<number>(3);
    expect(await queue.take(10)).toBeNull();
    await queue.put(1, 1);
    queue.close();
    expect(await queue.put(2, 1)).toBe(false);
    expect(await queue.take(10)).toBe(1);
    expect(await queue.take(10)).toBe(QUEUE_CLOSED);
  });

  it('a waiting put returns false when its signal aborts or the queue closes', async () => {
    const queue = new BoundedBatchQueue<number>(1);
    await queue.put(1, 1);
    const controller = new AbortController();
    const aborted = queue.put(2, 1, controller.signal);
    const closed = queue.put(3, 1);
    controller.abort();
    expect(await aborted).toBe(false);
    queue.close();
    expect(await closed).toBe(false);
    expect(queue.length).toBe(1);
  });

  it('a take waiting for an item wakes as soon as one is put', async () => {
    const queue = new BoundedBatchQueue<string>(2);
    const started = Date.now();
    const taken = queue.take(5_000);
    await queue.put('x', 1);
    expect(await taken).toBe('x');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
