// A code checked on the device, as EU DCC verifier apps check a certificate offline: the token's ES256
// signature (RFC 7515, compact form) against the issuer's published keys (RFC 7517) with WebCrypto,
// its issuer, and its time against the device's clock. What it cannot know offline is the holder's
// colour now: the answer is the colour the code was signed with, and says so.
const SKEW_S = 30; // as the server allows

function bytes(part) {
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64 + "===".slice((b64.length + 3) % 4)), (c) => c.charCodeAt(0));
}

function json(part) {
  return JSON.parse(new TextDecoder().decode(bytes(part)));
}

// ``ours``: our JWKS and our issuer (null until learned: then a key of ours is enough); ``partners``:
// issuer -> JWKS of the partner cities this service recognises (its trust list).
// -> { status: valid | expired | invalid_signature | unknown_issuer | malformed, color, iat, exp, issuer, partner }
export async function checkOffline(token, ours, partners = {}, nowMs = Date.now()) {
  const parts = String(token).trim().split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return { status: "malformed" };
  let header, claims, signature;
  try {
    header = json(parts[0]);
    claims = json(parts[1]);
    signature = bytes(parts[2]);
  } catch {
    return { status: "malformed" };
  }
  if (typeof claims !== "object" || !claims || typeof claims.exp !== "number" || typeof claims.iat !== "number") {
    return { status: "malformed" };
  }
  if (header.alg !== "ES256") return { status: "invalid_signature" };
  const partner = Object.hasOwn(partners, claims.iss) && claims.iss !== ours.issuer;
  const keys = partner ? partners[claims.iss] : !ours.issuer || claims.iss === ours.issuer ? ours.jwks : null;
  const jwk = (keys?.keys || []).find((k) => k.kid === header.kid);
  if (!jwk) return { status: "unknown_issuer", issuer: claims.iss };
  let ok = false;
  try {
    const key = await crypto.subtle.importKey(
      "jwk",
      { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
    const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
    ok = signature.length === 64 && (await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, signed));
  } catch {
    ok = false;
  }
  if (!ok) return { status: "invalid_signature" };
  const now = nowMs / 1000;
  const found = { color: claims.col, iat: claims.iat, exp: claims.exp, issuer: claims.iss, partner };
  if (claims.iat > now + SKEW_S) return { ...found, status: "malformed" };
  if (claims.exp < now - SKEW_S) return { ...found, status: "expired" };
  if (!["green", "yellow", "red"].includes(claims.col)) return { ...found, status: "malformed" };
  return { ...found, status: "valid" };
}
