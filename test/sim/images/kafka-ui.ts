/**
 * Simulation (test infrastructure): the process of ghcr.io/kafbat/kafka-ui (a JVM image that cannot
 * run here) as a named stand-in. kafbat/kafka-ui `api/Dockerfile`: user kafkaui (alpine `adduser -S`),
 * `CMD java --add-opens … $JAVA_OPTS -jar api.jar` (shell form), port 8080. Its Spring Boot actuator
 * exposes `info,health,prometheus` (`api/src/main/resources/application.yml`
 * management.endpoints.web.exposure.include); kafka-ui registers no HealthIndicator of its own (no
 * `HealthIndicator` in `api/src/main`), so /actuator/health is UP whether or not Kafka answers.
 * Spring Boot reads a property from a `-Dkey=value` system property (the CMD passes $JAVA_OPTS to
 * java) before the environment's relaxed form (SERVER_PORT for server.port,
 * MANAGEMENT_ENDPOINTS_WEB_EXPOSURE_INCLUDE) ("Externalized Configuration" in the Spring Boot
 * reference); an endpoint not exposed answers 404, the info endpoint with no contributors `{}`.
 * The health answers themselves are test/standins/http-services.ts's `kafka-ui` handler.
 */
import { createServer, request } from 'node:http';
import { startStandIn } from '../../standins/http-services.ts';

const env = process.env;
const sysProps = new Map(
  [...(env.JAVA_OPTS ?? '').matchAll(/(?:^|\s)-D([^=\s]+)=(\S*)/g)].map((m) => [m[1]!, m[2]!]),
);
const property = (key: string) => sysProps.get(key) ?? env[key.toUpperCase().replace(/[.-]/g, '_')];
const port = Number(property('server.port') ?? 8080);
const exposed = (property('management.endpoints.web.exposure.include') ?? 'info,health,prometheus')
  .split(',')
  .map((s) => s.trim());

const inner = await startStandIn('kafka-ui');
createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const endpoint = /^\/actuator\/([^/]+)/.exec(path)?.[1];
  if (endpoint && !exposed.includes('*') && !exposed.includes(endpoint)) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ timestamp: new Date().toISOString(), status: 404, error: 'Not Found', path }));
    return;
  }
  if (endpoint === 'info') {
    res.writeHead(200, { 'content-type': 'application/vnd.spring-boot.actuator.v3+json' });
    res.end('{}');
    return;
  }
  const up = request(
    { host: '127.0.0.1', port: inner.port, path: req.url, method: req.method, headers: req.headers },
    (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    },
  );
  up.on('error', () => {
    res.writeHead(502);
    res.end();
  });
  req.pipe(up);
}).listen(port, '0.0.0.0', () =>
  console.log(`${new Date().toISOString()} kafka-ui stand-in: Started KafkaUiApplication on port ${port}`),
);
