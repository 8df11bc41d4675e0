package io.outreach.http;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.source.ImmutableSecret;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.outreach.engine.tenant.TenantId;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * HS256 bearer tokens: verification for every {@code /v1} call and issuing for the {@code token}
 * subcommand. Only HS256 is accepted (never {@code alg: none} or another algorithm), {@code exp} is
 * required and at most {@link #MAX_LIFETIME} ahead (a far-future token, leaked once, would work for
 * years), a token issued in the future ({@code iat} beyond the clock skew) is refused, and the
 * tenant comes from the {@code tenant} claim and nowhere else.
 */
public final class JwtAuth {
  private static final Set<String> REQUIRED = Set.of("sub", "tenant", "roles", "exp");

  /** The longest a token may still be valid for when it is presented or issued. */
  public static final Duration MAX_LIFETIME = Duration.ofDays(30);

  private final Duration clockSkew;

  private final byte[] secret;
  private final DefaultJWTProcessor<SecurityContext> processor;

  public JwtAuth(String secret, Duration clockSkew) {
    this.secret = secret.getBytes(StandardCharsets.UTF_8);
    this.clockSkew = clockSkew;
    this.processor = new DefaultJWTProcessor<>();
    processor.setJWSKeySelector(
        new JWSVerificationKeySelector<>(JWSAlgorithm.HS256, new ImmutableSecret<>(this.secret)));
    DefaultJWTClaimsVerifier<SecurityContext> claims =
        new DefaultJWTClaimsVerifier<>(null, REQUIRED);
    claims.setMaxClockSkew((int) clockSkew.toSeconds());
    processor.setJWTClaimsSetVerifier(claims);
  }

  /** A token that failed verification; the message is safe to show to the caller. */
  public static final class InvalidToken extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidToken(String message) {
      super(message, null, false, false);
    }
  }

  /** Verifies a compact JWS and returns the caller it names. */
  public Principal verify(String token) throws InvalidToken {
    JWTClaimsSet claims;
    try {
      claims = processor.process(token, null);
    } catch (ParseException e) {
      throw new InvalidToken("the bearer token is not a signed JWT");
    } catch (BadJOSEException | JOSEException e) {
      String m = e.getMessage() == null ? "" : e.getMessage();
      throw new InvalidToken(
          m.contains("xpired") ? "the bearer token has expired" : "the bearer token is not valid");
    }
    Instant now = Instant.now();
    if (claims.getExpirationTime().toInstant().isAfter(now.plus(MAX_LIFETIME).plus(clockSkew))) {
      throw new InvalidToken(
          "the bearer token is valid for longer than " + MAX_LIFETIME.toDays() + " days");
    }
    if (claims.getIssueTime() != null
        && claims.getIssueTime().toInstant().isAfter(now.plus(clockSkew))) {
      throw new InvalidToken("the bearer token is issued in the future");
    }
    try {
      String tenant = claims.getStringClaim("tenant");
      if (!TenantId.isValid(tenant)) {
        throw new InvalidToken("the token's tenant claim is not a tenant id");
      }
      List<String> roleClaims = claims.getStringListClaim("roles");
      EnumSet<Role> roles = EnumSet.noneOf(Role.class);
      for (String r : roleClaims) {
        roles.add(
            Role.fromClaim(r)
                .orElseThrow(() -> new InvalidToken("the token names an unknown role")));
      }
      return new Principal(claims.getSubject(), tenant, Set.copyOf(roles));
    } catch (ParseException e) {
      throw new InvalidToken("the token's claims have the wrong types");
    }
  }

  /** Signs a token for {@code tenant} with {@code roles}, valid for {@code ttl}. */
  public String issue(String subject, String tenant, Set<Role> roles, Duration ttl, Clock clock) {
    if (ttl.compareTo(MAX_LIFETIME) > 0) {
      throw new IllegalArgumentException(
          "a token may be valid for at most " + MAX_LIFETIME.toDays() + " days, not " + ttl);
    }
    Date now = Date.from(clock.instant());
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .subject(subject)
            .claim("tenant", tenant)
            .claim("roles", roles.stream().map(Role::claim).sorted().toList())
            .issueTime(now)
            .expirationTime(Date.from(clock.instant().plus(ttl)))
            .jwtID(UUID.randomUUID().toString())
            .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    try {
      jwt.sign(new MACSigner(secret));
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot sign token", e);
    }
    return jwt.serialize();
  }
}
