package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.outreach.config.Settings;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Every manifest under {@code k8s/} parsed as plain YAML, and the invariants that keep them true to
 * the engine: ports as configured, probes on Pekko Management's real paths, the RBAC bootstrap
 * needs, selectors that find the pods, and every Secret or ConfigMap key the Deployment reads set
 * by the documented commands or by the manifests (base and the CloudNativePG overlay).
 */
class ManifestTest {
  private static final Path K8S = Path.of("..", "k8s");

  /** Every YAML document of every manifest, by file (relative to k8s/). */
  private static final Map<String, List<Map<String, Object>>> MANIFESTS = new LinkedHashMap<>();

  private static Config config;

  @BeforeAll
  static void load() throws IOException {
    try (Stream<Path> files = Files.walk(K8S)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        List<Map<String, Object>> docs = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(f)) {
          for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(r)) {
            if (doc != null) {
              docs.add(map(doc));
            }
          }
        }
        MANIFESTS.put(K8S.relativize(f).toString().replace('\\', '/'), docs);
      }
    }
    config = ConfigFactory.load();
  }

  @Test
  void everyManifestParsesAndKustomizationsListOnlyFilesThatExist() {
    assertThat(MANIFESTS.keySet())
        .contains(
            "base/kustomization.yaml",
            "base/deployment.yaml",
            "base/rbac.yaml",
            "base/pdb.yaml",
            "base/service.yaml",
            "overlays/cloudnative-pg/kustomization.yaml",
            "overlays/cloudnative-pg/postgres.yaml");
    MANIFESTS.forEach(
        (file, docs) -> {
          assertThat(docs).as(file).isNotEmpty();
          if (file.endsWith("kustomization.yaml")) {
            Path dir = K8S.resolve(file).getParent();
            for (Object resource : list(docs.get(0).get("resources"))) {
              assertThat(dir.resolve((String) resource)).as(file + ": " + resource).exists();
            }
            for (Object patch : list(docs.get(0).get("patches"))) {
              Object path = map(patch).get("path");
              if (path != null) {
                assertThat(dir.resolve((String) path)).as(file + ": " + path).exists();
              }
            }
          } else {
            docs.forEach(d -> assertThat(d).as(file).containsKeys("apiVersion", "kind"));
          }
        });
  }

  @Test
  void threeNodesRollOneAtATimeInProductionMode() {
    Map<String, Object> spec = map(deployment().get("spec"));
    assertThat(spec.get("replicas")).isEqualTo(3);
    Map<String, Object> strategy = map(spec.get("strategy"));
    assertThat(strategy.get("type")).isEqualTo("RollingUpdate");
    assertThat(map(strategy.get("rollingUpdate")))
        .containsEntry("maxSurge", 1)
        .containsEntry("maxUnavailable", 0);
    Map<String, String> env = literalEnv(container());
    assertThat(env)
        .containsEntry("OUTREACH_MODE", "production")
        .containsEntry("OUTREACH_CLUSTER_BOOTSTRAP", "on")
        .containsEntry("OUTREACH_CLUSTER_JOIN_SELF", "off")
        .containsEntry("OUTREACH_DISCOVERY_METHOD", "kubernetes-api");
    assertThat(Integer.parseInt(env.get("OUTREACH_REQUIRED_CONTACT_POINTS")))
        .as("a majority of the replicas before a cluster forms")
        .isGreaterThan(3 / 2);
    Map<String, Object> resources = map(container().get("resources"));
    assertThat(map(resources.get("limits"))).containsEntry("memory", "512Mi");
    assertThat(map(resources.get("requests"))).containsEntry("memory", "512Mi");
    assertThat(env.get("JAVA_TOOL_OPTIONS")).contains("MaxRAMPercentage");
  }

  @Test
  void namedPortsMatchTheConfiguration() {
    Map<String, Integer> ports = new HashMap<>();
    for (Object p : list(container().get("ports"))) {
      ports.put((String) map(p).get("name"), (Integer) map(p).get("containerPort"));
    }
    Map<String, String> env = literalEnv(container());
    assertThat(ports).containsOnlyKeys("http", "management", "remoting");
    assertThat(ports.get("http"))
        .isEqualTo(config.getInt("outreach.http.port"))
        .isEqualTo(Integer.parseInt(env.get("OUTREACH_HTTP_PORT")));
    assertThat(ports.get("management"))
        .isEqualTo(config.getInt("pekko.management.http.port"))
        .isEqualTo(Integer.parseInt(env.get("OUTREACH_MANAGEMENT_PORT")));
    assertThat(ports.get("remoting"))
        .isEqualTo(config.getInt("pekko.remote.artery.canonical.port"))
        .isEqualTo(Integer.parseInt(env.get("OUTREACH_REMOTE_PORT")));
    // Bootstrap finds each pod's management port by this name.
    assertThat(ports)
        .containsKey(
            config.getString(
                "pekko.management.cluster.bootstrap.contact-point-discovery.port-name"));
    Map<String, Object> service = one("Service");
    for (Object p : list(map(service.get("spec")).get("ports"))) {
      assertThat(ports).containsKey((String) map(p).get("targetPort"));
    }
  }

  @Test
  void probesHitPekkoManagementsPathsOnTheManagementPort() throws Exception {
    String base = config.getString("pekko.management.http.base-path");
    String ready =
        "/" + join(base, config.getString("pekko.management.health-checks.readiness-path"));
    String alive =
        "/" + join(base, config.getString("pekko.management.health-checks.liveness-path"));
    assertThat(ready).isEqualTo("/ready");
    assertThat(alive).isEqualTo("/alive");
    Map<String, Object> c = container();
    assertThat(probe(c, "readinessProbe"))
        .containsEntry("path", ready)
        .containsEntry("port", "management");
    assertThat(probe(c, "livenessProbe"))
        .containsEntry("path", alive)
        .containsEntry("port", "management");
    assertThat(probe(c, "startupProbe"))
        .containsEntry("path", alive)
        .containsEntry("port", "management");
    // /ready also asks the engine's own checks, through a class Pekko Management can make.
    String check = config.getString("pekko.management.health-checks.readiness-checks.outreach");
    assertThat(Class.forName(check)).isEqualTo(EngineReadiness.class);
    assertThat(EngineReadiness.class.getConstructor(org.apache.pekko.actor.ActorSystem.class))
        .isNotNull();
  }

  @Test
  void rbacAllowsWhatBootstrapNeedsAndSelectorsFindThePods() {
    Map<String, Object> podSpec = podSpec();
    String account = (String) podSpec.get("serviceAccountName");
    assertThat(all("ServiceAccount")).anyMatch(a -> account.equals(name(a)));
    Map<String, Object> binding = one("RoleBinding");
    assertThat(list(binding.get("subjects")))
        .anyMatch(
            s -> "ServiceAccount".equals(map(s).get("kind")) && account.equals(map(s).get("name")));
    String roleName = (String) map(binding.get("roleRef")).get("name");
    Map<String, Object> role =
        all("Role").stream().filter(r -> roleName.equals(name(r))).findFirst().orElseThrow();
    Set<String> verbs = new HashSet<>();
    for (Object rule : list(role.get("rules"))) {
      if (list(map(rule).get("resources")).contains("pods")
          && list(map(rule).get("apiGroups")).contains("")) {
        list(map(rule).get("verbs")).forEach(v -> verbs.add((String) v));
      }
    }
    assertThat(verbs).contains("get", "watch", "list");

    // kubernetes-api discovery looks for pods by this selector (the service name defaults to the
    // actor system's name).
    String selector =
        String.format(
            config.getString("pekko.discovery.kubernetes-api.pod-label-selector"),
            Settings.Cluster.SYSTEM_NAME);
    String[] kv = selector.split("=");
    Map<String, Object> labels =
        map(map(map(map(deployment().get("spec")).get("template")).get("metadata")).get("labels"));
    assertThat(labels).containsEntry(kv[0], kv[1]);
    assertThat(labels).containsAllEntriesOf(selectorOf(map(deployment().get("spec"))));
    assertThat(labels)
        .containsAllEntriesOf(selectorOf(map(one("PodDisruptionBudget").get("spec"))));
    assertThat(labels)
        .containsAllEntriesOf(mapOfStrings(map(one("Service").get("spec")).get("selector")));
    Map<String, Object> pdb = map(one("PodDisruptionBudget").get("spec"));
    assertThat(pdb.get("maxUnavailable")).as("a majority of three stays").isEqualTo(1);
  }

  @Test
  void everySecretAndConfigMapKeyTheBaseReadsIsSet() throws IOException {
    Map<String, Set<String>> set = documentedKeys("secret generic");
    Map<String, Set<String>> configMaps = documentedKeys("configmap");
    assertReferencesSet(envOf(container()), set, configMaps);
  }

  @Test
  void theCloudNativePgOverlayRunsThreeInstancesAndSetsEveryKeyItReads() throws IOException {
    Map<String, Object> pg =
        MANIFESTS.get("overlays/cloudnative-pg/postgres.yaml").stream()
            .filter(d -> "Cluster".equals(d.get("kind")))
            .findFirst()
            .orElseThrow();
    assertThat(pg.get("apiVersion")).isEqualTo("postgresql.cnpg.io/v1");
    Map<String, Object> spec = map(pg.get("spec"));
    assertThat(spec.get("instances")).isEqualTo(3);
    String cluster = name(pg);

    Map<String, Object> kustomization =
        MANIFESTS.get("overlays/cloudnative-pg/kustomization.yaml").get(0);
    Map<String, Object> patch = MANIFESTS.get("overlays/cloudnative-pg/database-env.yaml").get(0);
    Map<String, Object> patchContainer =
        map(
            list(map(map(map(patch.get("spec")).get("template")).get("spec")).get("containers"))
                .get(0));
    Map<String, Map<String, Object>> env = envOf(container());
    for (Object e : list(patchContainer.get("env"))) {
      Map<String, Object> entry = map(e);
      env.put((String) entry.get("name"), merge(env.get(entry.get("name")), entry));
    }

    Map<String, Set<String>> secrets = documentedKeys("secret generic");
    secrets.remove("outreach-db"); // not needed with this overlay
    // The operator's Secret for the database owner.
    secrets.put(cluster + "-app", Set.of("username", "password", "host", "port", "dbname", "uri"));
    Map<String, Set<String>> configMaps = documentedKeys("configmap");
    for (Object g : list(kustomization.get("configMapGenerator"))) {
      Set<String> keys = new HashSet<>();
      for (Object literal : list(map(g).get("literals"))) {
        keys.add(((String) literal).split("=", 2)[0]);
      }
      configMaps.put((String) map(g).get("name"), keys);
    }
    assertReferencesSet(env, secrets, configMaps);
    // The managed application role's password comes from a Secret that is set too.
    for (Object role : list(map(spec.get("managed")).get("roles"))) {
      String secret = (String) map(map(role).get("passwordSecret")).get("name");
      assertThat(secrets).as("Secret " + secret).containsKey(secret);
    }
    String url = kustomization.get("configMapGenerator").toString();
    assertThat(url).contains("jdbc:postgresql://" + cluster + "-rw:5432/");
    assertThat(env.get("OUTREACH_DB_URL").toString()).doesNotContain("secretKeyRef");
  }

  // --- helpers ---

  private static void assertReferencesSet(
      Map<String, Map<String, Object>> env,
      Map<String, Set<String>> secrets,
      Map<String, Set<String>> configMaps) {
    int checked = 0;
    for (Map.Entry<String, Map<String, Object>> e : env.entrySet()) {
      Map<String, Object> from = map(e.getValue().get("valueFrom"));
      for (String kind : List.of("secretKeyRef", "configMapKeyRef")) {
        Map<String, Object> ref = map(from.get(kind));
        if (ref.isEmpty() || Boolean.TRUE.equals(ref.get("optional"))) {
          continue;
        }
        Map<String, Set<String>> sources = kind.equals("secretKeyRef") ? secrets : configMaps;
        String name = (String) ref.get("name");
        assertThat(sources).as(e.getKey() + " reads " + kind + " " + name).containsKey(name);
        assertThat(sources.get(name))
            .as(e.getKey() + " reads key " + ref.get("key") + " of " + name)
            .contains((String) ref.get("key"));
        checked++;
      }
    }
    assertThat(checked).as("references checked").isGreaterThanOrEqualTo(7);
  }

  /**
   * The keys the README's commands set: {@code kubectl create secret generic NAME
   * --from-literal=KEY=...} (or {@code configmap}).
   */
  private static Map<String, Set<String>> documentedKeys(String what) throws IOException {
    String readme = Files.readString(K8S.resolve("README.md")).replace("\\\n", " ");
    Map<String, Set<String>> keys = new HashMap<>();
    Matcher m =
        Pattern.compile("kubectl create " + Pattern.quote(what) + " (\\S+)([^\\n]*)")
            .matcher(readme);
    while (m.find()) {
      Matcher literal = Pattern.compile("--from-literal=([\\w.-]+)=").matcher(m.group(2));
      Set<String> set = keys.computeIfAbsent(m.group(1), k -> new HashSet<>());
      while (literal.find()) {
        set.add(literal.group(1));
      }
    }
    return keys;
  }

  private static Map<String, Object> merge(Map<String, Object> base, Map<String, Object> patch) {
    Map<String, Object> out = new LinkedHashMap<>(base == null ? Map.of() : base);
    patch.forEach(
        (k, v) -> {
          if (v == null) {
            out.remove(k);
          } else if (v instanceof Map<?, ?> && out.get(k) instanceof Map<?, ?>) {
            out.put(k, merge(map(out.get(k)), map(v)));
          } else {
            out.put(k, v);
          }
        });
    return out;
  }

  private static Map<String, Map<String, Object>> envOf(Map<String, Object> container) {
    Map<String, Map<String, Object>> env = new LinkedHashMap<>();
    for (Object e : list(container.get("env"))) {
      env.put((String) map(e).get("name"), map(e));
    }
    return env;
  }

  private static Map<String, String> literalEnv(Map<String, Object> container) {
    Map<String, String> env = new HashMap<>();
    envOf(container)
        .forEach(
            (name, e) -> {
              if (e.get("value") != null) {
                env.put(name, String.valueOf(e.get("value")));
              }
            });
    return env;
  }

  private static Map<String, Object> probe(Map<String, Object> container, String which) {
    assertThat(container).containsKey(which);
    return map(map(container.get(which)).get("httpGet"));
  }

  private static String join(String base, String path) {
    return base.isEmpty() ? path : base + "/" + path;
  }

  private static Map<String, Object> deployment() {
    return one("Deployment");
  }

  private static Map<String, Object> podSpec() {
    return map(map(map(deployment().get("spec")).get("template")).get("spec"));
  }

  private static Map<String, Object> container() {
    return map(list(podSpec().get("containers")).get(0));
  }

  private static Map<String, String> selectorOf(Map<String, Object> spec) {
    return mapOfStrings(map(spec.get("selector")).get("matchLabels"));
  }

  private static Map<String, String> mapOfStrings(Object o) {
    Map<String, String> out = new HashMap<>();
    map(o).forEach((k, v) -> out.put(k, String.valueOf(v)));
    assertThat(out).as("a selector").isNotEmpty();
    return out;
  }

  /** The documents of {@code kind} in the base. */
  private static List<Map<String, Object>> all(String kind) {
    List<Map<String, Object>> found = new ArrayList<>();
    MANIFESTS.forEach(
        (file, docs) -> {
          if (file.startsWith("base/")) {
            docs.stream().filter(d -> kind.equals(d.get("kind"))).forEach(found::add);
          }
        });
    return found;
  }

  private static Map<String, Object> one(String kind) {
    List<Map<String, Object>> found = all(kind);
    assertThat(found).as("one " + kind + " in the base").hasSize(1);
    return found.get(0);
  }

  private static String name(Map<String, Object> doc) {
    return (String) map(doc.get("metadata")).get("name");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return o == null ? Map.of() : (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    return o == null ? List.of() : (List<Object>) o;
  }
}
