import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One received e-mail, parsed with mailparser. */
export interface ReceivedMail {
  messageId: string | undefined;
  subject: string | undefined;
  from: string | undefined;
  to: string[];
  text: string | undefined;
  html: string | false;
  /** every header, lower-case names, string values (structured ones as their text) */
  headers: Record<string, string>;
  /** the raw message */
  raw: string;
  receivedAtMs: number;
}

/** A free TCP port on 127.0.0.1 at the time of the call. */
export async function freeTcpPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A real SMTP server (the smtp-server package) on 127.0.0.1 that accepts every message without TLS
 * or auth and records it parsed (mailparser). `start(port)` can bind a port chosen earlier, so a
 * test can send to a closed port first ("SMTP down") and start the server later.
 */
export class SmtpTestServer {
  readonly mails: ReceivedMail[] = [];
  private server: SMTPServer | null = null;
  port = 0;

  /** The connection URL for nodemailer, e.g. `smtp://127.0.0.1:2525`. */
  url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    this.server = new SMTPServer({
      secure: false,
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, _session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw)
            .then((mail) => {
              const headers: Record<string, string> = {};
              for (const line of mail.headerLines) headers[line.key] = line.line.slice(line.line.indexOf(':') + 1).trim();
              const to = Array.isArray(mail.to) ? mail.to.flatMap((a) => a.value) : (mail.to?.value ?? []);
              this.mails.push({
                messageId: mail.messageId,
                subject: mail.subject,
                from: mail.from?.value[0]?.address,
                to: to.map((a) => a.address ?? ''),
                text: mail.text,
                html: mail.html ?? false,
                headers,
                raw,
                receivedAtMs: Date.now(),
              });
              callback();
            })
            .catch((error: Error) => callback(error));
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, '127.0.0.1', () => resolve());
    });
    const address = this.server.server.address() as AddressInfo;
    this.port = address.port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * A TCP server that accepts connections and never says anything (an SMTP server stuck before its
 * greeting): a sender without timeouts would wait forever. Counts connections.
 */
export class StuckTcpServer {
  connections = 0;
  private readonly sockets = new Set<Socket>();
  private server: NetServer | null = null;
  port = 0;

  async start(): Promise<this> {
    this.server = createNetServer((socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      socket.on('error', () => this.sockets.delete(socket));
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
