/**
 * Certificates made by the tests with `openssl` (Debian's), in a temp dir:
 * a private CA and leaves signed by it with chosen validity windows (one
 * that expires in 3 days, an expired one, one not yet valid, one for the
 * wrong host name), and a self-signed leaf. `openssl ca` takes exact start
 * and end dates, which `openssl x509 -days` cannot put in the past.
 *
 * @module
 */

/** Debian's openssl. */
export const OPENSSL_BINARY = "/usr/bin/openssl";

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** A key and certificate on disk, with the validity it was given. */
export interface Leaf {
  cert: string;
  key: string;
  notBeforeMs: number;
  notAfterMs: number;
  subject: string;
  sans: string;
}

/** The leaves every TLS test uses. */
export interface Pki {
  dir: string;
  /** The private CA's certificate (PEM file). */
  caCert: string;
  /** Valid for 90 days, for localhost and 127.0.0.1. */
  good: Leaf;
  /** Expires in 3 days. */
  soon: Leaf;
  /** Expired a day ago. */
  expired: Leaf;
  /** Valid only from 10 days from now. */
  future: Leaf;
  /** Valid, but only for wrong.example.test. */
  wrongName: Leaf;
  /** Self-signed, for localhost and 127.0.0.1. */
  selfSigned: Leaf;
  remove(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const output = await new Deno.Command(OPENSSL_BINARY, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `openssl ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
}

/** `YYYYMMDDHHMMSSZ`, as `openssl ca -startdate` takes it (whole seconds). */
function asn1Time(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, "").replace(/\.\d{3}Z$/, "Z");
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
const LOCAL_SANS = "DNS:localhost,IP:127.0.0.1";

const CA_CONFIG = `[ ca ]
default_ca = test_ca
[ test_ca ]
database = ./index.txt
new_certs_dir = ./issued
serial = ./serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[ any ]
commonName = supplied
organizationName = optional
`;

/** Makes the CA and every leaf in a new temp dir (readable by nginx's workers); nothing is left behind on failure. */
export async function makePki(): Promise<Pki> {
  const dir = await Deno.makeTempDir({ prefix: "kozak-pki-" });
  try {
    return await fill(dir);
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}

async function fill(dir: string): Promise<Pki> {
  await Deno.chmod(dir, 0o755);
  await Deno.mkdir(`${dir}/issued`);
  await Deno.writeTextFile(`${dir}/ca.cnf`, CA_CONFIG);
  await Deno.writeTextFile(`${dir}/index.txt`, "");
  await Deno.writeTextFile(`${dir}/serial`, "1000\n");
  await openssl([
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "3650",
    "-subj",
    "/O=Kozak Tests/CN=Kozak Test CA",
  ], dir);

  const now = Date.now();
  const signed = async (name: string, sans: string, fromMs: number, toMs: number) => {
    const subject = `/O=Kozak Tests/CN=${name}`;
    await openssl([
      "req",
      ...EC_KEY,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      subject,
      "-addext",
      `subjectAltName=${sans}`,
    ], dir);
    await openssl([
      "ca",
      "-batch",
      "-notext",
      "-config",
      "ca.cnf",
      "-cert",
      "ca.crt",
      "-keyfile",
      "ca.key",
      "-in",
      `${name}.csr`,
      "-out",
      `${name}.crt`,
      "-startdate",
      asn1Time(fromMs),
      "-enddate",
      asn1Time(toMs),
    ], dir);
    return leaf(name, subject, sans, fromMs, toMs);
  };
  const leaf = (name: string, subject: string, sans: string, fromMs: number, toMs: number) => ({
    cert: `${dir}/${name}.crt`,
    key: `${dir}/${name}.key`,
    notBeforeMs: Math.floor(fromMs / 1000) * 1000,
    notAfterMs: Math.floor(toMs / 1000) * 1000,
    subject,
    sans,
  });
  // One at a time: `openssl ca` keeps its serial and index in files.
  const good = await signed("good", LOCAL_SANS, now - HOUR_MS, now + 90 * DAY_MS);
  const soon = await signed("soon", LOCAL_SANS, now - HOUR_MS, now + 3 * DAY_MS);
  const expired = await signed("expired", LOCAL_SANS, now - 30 * DAY_MS, now - DAY_MS);
  const future = await signed("future", LOCAL_SANS, now + 10 * DAY_MS, now + 40 * DAY_MS);
  const wrongName = await signed(
    "wrong",
    "DNS:wrong.example.test",
    now - HOUR_MS,
    now + 90 * DAY_MS,
  );
  const selfSubject = "/O=Kozak Tests/CN=localhost";
  await openssl([
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    "self.key",
    "-out",
    "self.crt",
    "-days",
    "30",
    "-subj",
    selfSubject,
    "-addext",
    `subjectAltName=${LOCAL_SANS}`,
  ], dir);
  const selfSigned = leaf("self", selfSubject, LOCAL_SANS, now, now + 30 * DAY_MS);
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) await Deno.chmod(`${dir}/${entry.name}`, 0o644);
  }
  return {
    dir,
    caCert: `${dir}/ca.crt`,
    good,
    soon,
    expired,
    future,
    wrongName,
    selfSigned,
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}
