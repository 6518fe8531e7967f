/**
 * Certificate authorities and server certificates of the tests' own, made
 * with the openssl command line, for local stores that speak TLS as
 * ElastiCache and RDS do.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** A certificate authority: its certificate (PEM) and where its files are. */
export interface TestCa {
  readonly name: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly pem: string;
}

/** A server certificate and key, signed by a {@link TestCa}. */
export interface TestServerCert {
  readonly certFile: string;
  readonly keyFile: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A new certificate authority in `dir`, valid for a day. */
export function createCa(dir: string, name: string): TestCa {
  const base = name.replace(/\W+/g, '-').toLowerCase();
  const keyFile = path.join(dir, `${base}.key`);
  const certFile = path.join(dir, `${base}.pem`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '1', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  return { name, certFile, keyFile, pem: fs.readFileSync(certFile, 'utf8') };
}

/** A server certificate for `ip` (an IP subject alternative name), signed by `ca`. */
export function serverCert(dir: string, ca: TestCa, ip: string): TestServerCert {
  const base = `server-${ip.replace(/\W+/g, '-')}-${path.basename(ca.certFile, '.pem')}`;
  const keyFile = path.join(dir, `${base}.key`);
  const csr = path.join(dir, `${base}.csr`);
  const certFile = path.join(dir, `${base}.pem`);
  const ext = path.join(dir, `${base}.ext`);
  fs.writeFileSync(ext, `subjectAltName=IP:${ip}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${ip}`], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-out', certFile, '-days', '1', '-extfile', ext], dir);
  fs.chmodSync(keyFile, 0o644);
  return { certFile, keyFile };
}
