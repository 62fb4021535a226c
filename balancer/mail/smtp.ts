import nodemailer from 'nodemailer';

// The one file that imports nodemailer: e-mail for notifications, when VERITY_SMTP_URL is set
// (smtp://user:pass@host:587, smtps://… for implicit TLS).

export interface Mailer {
  send(m: { to: string; subject: string; text: string }): Promise<void>;
  close(): void;
}

export function createSmtpMailer(url: string, from: string, timeoutMs = 15_000): Mailer {
  // Connection, greeting and socket timeouts: a stuck server fails the attempt, which is retried.
  const transport = nodemailer.createTransport({ url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs }, { from });
  return {
    async send(m) {
      await transport.sendMail({ to: m.to, subject: m.subject, text: m.text });
    },
    close: () => transport.close(),
  };
}
