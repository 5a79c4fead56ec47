/**
 * Ed25519 keys and manifest signatures with node:crypto (no dependency).
 * Keys are PEM files: `<name>.key` (PKCS#8, private) and `<name>.pub`
 * (SPKI). A key id is the first 16 hex digits of the SHA-256 of the public
 * key's DER bytes, so a manifest names the key without carrying it.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ReasondError } from '../core/errors.js';
import { PackageError } from './errors.js';
import { signedBytes, type Manifest } from './manifest.js';

export interface KeyPairPem {
  privatePem: string;
  publicPem: string;
  keyId: string;
}

export interface TrustedKey {
  keyId: string;
  key: KeyObject;
  /** Where it came from, for messages. */
  source: string;
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function generateKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/** Writes a new pair as <out>.key (mode 0600) and <out>.pub; never overwrites a key. */
export function writeKeyPair(out: string): KeyPairPem {
  for (const p of [`${out}.key`, `${out}.pub`]) if (existsSync(p)) throw new ReasondError('invalid_request', `${p} exists; keygen does not overwrite keys`);
  mkdirSync(dirname(out), { recursive: true });
  const k = generateKeyPair();
  writeFileSync(`${out}.key`, k.privatePem, { mode: 0o600 });
  chmodSync(`${out}.key`, 0o600);
  writeFileSync(`${out}.pub`, k.publicPem);
  return k;
}

export function readPrivateKey(path: string): KeyObject {
  const key = createPrivateKey(readFileSync(path));
  if (key.asymmetricKeyType !== 'ed25519') throw new PackageError('untrusted_key', `${path} is a ${key.asymmetricKeyType} key; packages are signed with ed25519`);
  return key;
}

export function readTrustedKey(path: string): TrustedKey {
  const key = createPublicKey(readFileSync(path));
  if (key.asymmetricKeyType !== 'ed25519') throw new PackageError('untrusted_key', `${path} is a ${key.asymmetricKeyType} key; packages are signed with ed25519`);
  return { keyId: keyIdOf(key), key, source: path };
}

/** Returns the manifest with its signature (any old one replaced). */
export function signManifest(m: Manifest, privateKey: KeyObject): Manifest {
  const unsigned: Manifest = { ...m, signature: undefined };
  const value = sign(null, signedBytes(unsigned), privateKey).toString('base64');
  return { ...unsigned, signature: { key_id: keyIdOf(createPublicKey(privateKey)), alg: 'ed25519', value } };
}

/** Throws unsigned, untrusted_key or bad_signature; returns the key that signed. */
export function checkSignature(m: Manifest, trusted: TrustedKey[]): TrustedKey {
  if (!m.signature) throw new PackageError('unsigned', `${m.name}@${m.version} has no signature`);
  const key = trusted.find((k) => k.keyId === m.signature!.key_id);
  if (!key) {
    const known = trusted.map((k) => k.keyId).join(', ') || 'none';
    throw new PackageError('untrusted_key', `${m.name}@${m.version} is signed by key ${m.signature.key_id}, which is not trusted (trusted: ${known})`);
  }
  const ok = verify(null, signedBytes(m), key.key, Buffer.from(m.signature.value, 'base64'));
  if (!ok) throw new PackageError('bad_signature', `${m.name}@${m.version}: the signature does not match the manifest for key ${key.keyId} (${key.source})`);
  return key;
}
