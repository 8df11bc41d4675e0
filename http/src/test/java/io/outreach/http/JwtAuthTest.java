package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class JwtAuthTest {
  private static final String SECRET = "0123456789abcdef0123456789abcdef";
  private final JwtAuth auth = new JwtAuth(SECRET, Duration.ofSeconds(30));

  @Test
  void issuedTokenVerifiesToItsClaims() throws Exception {
    String token =
        auth.issue(
            "ops",
            "acme",
            Set.of(Role.ADMIN, Role.OPERATOR),
            Duration.ofHours(1),
            Clock.systemUTC());
    Principal p = auth.verify(token);
    assertThat(p).isEqualTo(new Principal("ops", "acme", Set.of(Role.ADMIN, Role.OPERATOR)));
  }

  @Test
  void expiredTokenIsRejected() {
    Clock past = Clock.fixed(Instant.now().minus(Duration.ofHours(2)), ZoneOffset.UTC);
    String token = auth.issue("ops", "acme", Set.of(Role.ADMIN), Duration.ofHours(1), past);
    assertThatThrownBy(() -> auth.verify(token)).hasMessageContaining("expired");
  }

  @Test
  void tokenSignedWithAnotherSecretIsRejected() {
    String token =
        new JwtAuth("another-secret-another-secret-xx", Duration.ZERO)
            .issue("ops", "acme", Set.of(Role.ADMIN), Duration.ofHours(1), Clock.systemUTC());
    assertThatThrownBy(() -> auth.verify(token)).isInstanceOf(JwtAuth.InvalidToken.class);
  }

  @Test
  void farFutureAndFutureIssuedTokensAreRejected() throws Exception {
    JWTClaimsSet years =
        new JWTClaimsSet.Builder(claims("acme", List.of("admin")))
            .expirationTime(Date.from(Instant.now().plus(Duration.ofDays(3650))))
            .build();
    assertThatThrownBy(() -> auth.verify(sign(years))).hasMessageContaining("longer than 30 days");
    JWTClaimsSet issuedLater =
        new JWTClaimsSet.Builder(claims("acme", List.of("admin")))
            .issueTime(Date.from(Instant.now().plus(Duration.ofHours(1))))
            .build();
    assertThatThrownBy(() -> auth.verify(sign(issuedLater))).hasMessageContaining("future");
    assertThatThrownBy(
            () ->
                auth.issue(
                    "ops", "acme", Set.of(Role.ADMIN), Duration.ofDays(31), Clock.systemUTC()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(
            auth.verify(
                    auth.issue(
                        "ops", "acme", Set.of(Role.ADMIN), Duration.ofDays(30), Clock.systemUTC()))
                .tenantId())
        .isEqualTo("acme");
  }

  @Test
  void unsignedAndOtherAlgorithmTokensAreRejected() throws Exception {
    JWTClaimsSet claims = claims("acme", List.of("admin"));
    String none = new PlainJWT(claims).serialize();
    assertThatThrownBy(() -> auth.verify(none)).isInstanceOf(JwtAuth.InvalidToken.class);

    SignedJWT hs512 = new SignedJWT(new JWSHeader(JWSAlgorithm.HS512), claims);
    hs512.sign(new MACSigner((SECRET + SECRET).getBytes(StandardCharsets.UTF_8)));
    assertThatThrownBy(() -> auth.verify(hs512.serialize()))
        .isInstanceOf(JwtAuth.InvalidToken.class);
  }

  @Test
  void missingClaimsBadTenantAndUnknownRolesAreRejected() throws Exception {
    assertThatThrownBy(() -> auth.verify(sign(claims("Not A Slug", List.of("admin")))))
        .hasMessageContaining("tenant");
    assertThatThrownBy(() -> auth.verify(sign(claims("acme", List.of("root")))))
        .hasMessageContaining("role");
    JWTClaimsSet noExp =
        new JWTClaimsSet.Builder()
            .subject("x")
            .claim("tenant", "acme")
            .claim("roles", List.of("admin"))
            .build();
    assertThatThrownBy(() -> auth.verify(sign(noExp))).isInstanceOf(JwtAuth.InvalidToken.class);
    assertThatThrownBy(() -> auth.verify("garbage")).isInstanceOf(JwtAuth.InvalidToken.class);
  }

  @Test
  void roleHierarchy() {
    assertThat(Role.ADMIN.grants(Role.VIEWER)).isTrue();
    assertThat(Role.OPERATOR.grants(Role.ADMIN)).isFalse();
    assertThat(Role.PLATFORM.grants(Role.ADMIN)).isFalse();
    assertThat(Role.ADMIN.grants(Role.PLATFORM)).isFalse();
  }

  private static JWTClaimsSet claims(String tenant, List<String> roles) {
    return new JWTClaimsSet.Builder()
        .subject("x")
        .claim("tenant", tenant)
        .claim("roles", roles)
        .expirationTime(Date.from(Instant.now().plusSeconds(600)))
        .build();
  }

  private static String sign(JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
    return jwt.serialize();
  }
}
