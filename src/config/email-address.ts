import addressparser from 'nodemailer/lib/addressparser';
import { z } from 'zod';

/** The address part's shape: the WHATWG HTML5 e-mail pattern (zod's `regexes.html5Email`; accepts `root@localhost`). */
const addressFormat = z.email({ pattern: z.regexes.html5Email });

/** How a problem message shows the accepted forms. */
const FORMS = 'give name@domain or "Name" <name@domain>';

/**
 * What is wrong with `text` as ONE e-mail address of an e-mail receiver's `from` or `to` entry, or
 * null when it is one. Accepted: a bare address (`jaga@example.com`) or one with a display name
 * (`"jaga" <jaga@example.com>`, `jaga <jaga@example.com>`). nodemailer's own address parser (the
 * one that sends the message) splits name and address; the address must match the HTML5 e-mail
 * pattern. The value is shown in the message (an address from the config, not customer data).
 * @returns e.g. `"nope" is not an e-mail address: give name@domain or "Name" <name@domain>`, or
 *   `"a@example.com, b@example.com" holds 2 addresses: give one per entry`
 */
export function emailAddressProblem(text: string): string | null {
  const parsed = addressparser(text, { flatten: true });
  if (parsed.length > 1) return `${JSON.stringify(text)} holds ${parsed.length} addresses: give one per entry`;
  const address = parsed[0]?.address ?? '';
  if (address === '' || !addressFormat.safeParse(address).success) return `${JSON.stringify(text)} is not an e-mail address: ${FORMS}`;
  return null;
}

/** A zod string that must be one e-mail address (`emailAddressProblem` gives the message). */
export const emailAddressSchema = z.string().superRefine((text, context) => {
  const problem = emailAddressProblem(text);
  if (problem !== null) context.addIssue({ code: 'custom', message: problem });
});
