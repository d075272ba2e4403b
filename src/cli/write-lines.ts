/**
 * Writes lines (each without its newline) to a stream as one write, waiting for `drain` when the
 * stream's buffer is full so memory stays bounded however fast the producer is.
 * @throws the stream's error (e.g. EPIPE when stdout is closed) as a rejected promise
 */
export async function writeLines(stream: NodeJS.WritableStream, lines: string[]): Promise<void> {
  const ok = stream.write(`${lines.join('\n')}\n`);
  if (ok) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('error', onError);
      resolve();
    };
    const onError = (error: Error): void => {
      stream.off('drain', onDrain);
      reject(error);
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}
