/**
 * The deployment files must agree with the code: the Kubernetes manifests (probe paths, port,
 * environment, shutdown budget), docker-compose.yml and the nginx configuration in front of it
 * (upstreams, timeouts, body limit, retries, request id). No cluster or container engine runs
 * here, so these check what can be checked without one.
 */
import { describe, expect, it } from 'vitest';
import { SHUTDOWN_HANG_MARGIN_MS } from '../../src/cluster.js';
import { loadConfig, type Config } from '../../src/config.js';
import { idleSocketTimeoutMs } from '../../src/http/connection-limits.js';
import { REQUEST_ID_HEADER } from '../../src/http/request-id.js';
import { findAll, findOne, imageEnvironment, NGINX_CONF_PATH, nginxSizeBytes, nginxTimeMs, parseNginx, readProjectFile, readYaml, type NginxDirective } from '../support/deploy-files.js';
import { useApp } from '../support/http.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML, read field by field */
type Manifest = Record<string, any>;

const deployment: Manifest = readYaml('deploy/kubernetes/deployment.yaml');
const service: Manifest = readYaml('deploy/kubernetes/service.yaml');
const hpa: Manifest = readYaml('deploy/kubernetes/hpa.yaml');
const pdb: Manifest = readYaml('deploy/kubernetes/pdb.yaml');
const compose: Manifest = readYaml('docker-compose.yml');
const nginx = parseNginx(readProjectFile(NGINX_CONF_PATH));
const configSource = readProjectFile('src/config.ts');

const podSpec = deployment['spec'].template.spec;
const container = podSpec.containers[0];
const containerEnv: Record<string, string> = Object.fromEntries(container.env.map((entry: { name: string; value: string }) => [entry.name, entry.value]));

/** A setting the service reads: a key of the environment schema, or NODE_ENV. */
function isSetting(name: string): boolean {
  return new RegExp(`^\\s+${name}: `, 'm').test(configSource) || configSource.includes(`environment['${name}']`);
}

/** The configuration the service reads from the image's environment plus `env`. */
function configWith(env: Record<string, string>): Config {
  return loadConfig({ ...imageEnvironment(), ...env });
}

const app = useApp();

describe('Kubernetes manifests', () => {
  it('are a Deployment, a Service, an autoscaling/v2 HorizontalPodAutoscaler and a PodDisruptionBudget for the same pods', () => {
    expect([deployment, service, hpa, pdb].map((manifest) => `${manifest['apiVersion']} ${manifest['kind']}`)).toEqual([
      'apps/v1 Deployment',
      'v1 Service',
      'autoscaling/v2 HorizontalPodAutoscaler',
      'policy/v1 PodDisruptionBudget',
    ]);
    const labels = deployment['spec'].template.metadata.labels;
    expect(deployment['spec'].selector.matchLabels).toEqual(labels);
    expect(service['spec'].selector).toEqual(labels);
    expect(pdb['spec'].selector.matchLabels).toEqual(labels);
    expect(hpa['spec'].scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment['metadata'].name });
    expect(hpa['spec'].metrics).toMatchObject([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }]);
    expect(hpa['spec'].minReplicas).toBeGreaterThanOrEqual(2);
    // The budget leaves pods serving during a voluntary disruption.
    expect(pdb['spec'].maxUnavailable).toBeLessThan(hpa['spec'].minReplicas);
  });

  it('set only settings the service reads, and a configuration it accepts', () => {
    expect(Object.keys(containerEnv).filter((name) => !isSetting(name))).toEqual([]);
    expect(() => configWith(containerEnv)).not.toThrow();
    expect(configWith(containerEnv).workers).toBe(1);
  });

  it('run one offload thread a core of the CPU limit, not one a core of the node', () => {
    const cores = Math.max(1, Math.floor(Number(container.resources.limits.cpu)));
    expect(containerEnv['OFFLOAD_THREADS']).toBeDefined();
    expect(configWith(containerEnv).offload.threads).toBe(cores);
  });

  it('serve on the port the service listens on, named by the probes and the Service', () => {
    const { port } = configWith(containerEnv);
    expect(container.ports).toEqual([{ name: 'http', containerPort: port }]);
    expect(container.readinessProbe.httpGet.port).toBe('http');
    expect(container.livenessProbe.httpGet.port).toBe('http');
    expect(service['spec'].ports).toMatchObject([{ targetPort: 'http' }]);
  });

  it('probe readiness on /readyz and liveness on /healthz, which the app answers', async () => {
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    for (const path of [container.readinessProbe.httpGet.path, container.livenessProbe.httpGet.path]) {
      const response = await app().inject({ method: 'GET', url: path });
      expect({ path, status: response.statusCode }).toEqual({ path, status: 200 });
    }
  });

  it('give a stopping pod preStop + drain + grace + the hang margin within terminationGracePeriodSeconds', () => {
    const config = configWith(containerEnv);
    const preStop: string[] = container.lifecycle.preStop.exec.command;
    expect(preStop[0]).toBe('sleep');
    const preStopMs = Number(preStop[1]) * 1000;
    // The preStop wait matches the drain: each covers the time others need to stop sending here.
    expect(preStopMs).toBe(config.shutdown_drain_ms);
    expect(config.shutdown_drain_ms).toBeGreaterThan(0);
    const budgetMs = preStopMs + config.shutdown_drain_ms + config.shutdown_grace_ms + SHUTDOWN_HANG_MARGIN_MS;
    expect(budgetMs).toBeLessThanOrEqual(podSpec.terminationGracePeriodSeconds * 1000);
    // A probe of /readyz sees the drain's 503 before the drain ends.
    const probe = container.readinessProbe;
    expect(probe.periodSeconds * probe.failureThreshold * 1000).toBeLessThan(config.shutdown_drain_ms);
  });

  it('run as non-root on a read-only root file system, with resources set', () => {
    expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(podSpec.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
  });
});

/** The compose services that run Divy (built from this project), by name. */
const replicas = Object.entries(compose['services'] as Record<string, Manifest>).filter(([, definition]) => definition['build'] === '.');
const replicaConfig = configWith(replicas[0]![1]['environment']);
const upstream = findOne(nginx, 'upstream');
/** The server block that proxies to the replicas (the upstream's `server` lines have no block). */
const proxyServer = findAll(nginx, 'server').find((directive) => directive.block !== undefined)!;
const locations = findAll(proxyServer.block!, 'location');
const locationNamed = (name: string) => locations.find((location) => location.args[0] === name)!;

function argsOf(name: string, within: readonly NginxDirective[] = nginx): readonly string[] {
  return findOne(within, name).args;
}

describe('docker-compose.yml', () => {
  it('runs three replicas alike, each with a health check on /healthz and a configuration the service accepts', () => {
    expect(replicas.map(([name]) => name)).toEqual(['divy-1', 'divy-2', 'divy-3']);
    for (const [, definition] of replicas) {
      expect(definition).toEqual(replicas[0]![1]);
      expect(Object.keys(definition['environment']).filter((name) => !isSetting(name))).toEqual([]);
    }
    expect(replicas[0]![1]['healthcheck'].test.join(' ')).toContain(`:${replicaConfig.port}/healthz`);
    expect(replicas[0]![1]['read_only']).toBe(true);
  });

  it('gives a stopping replica its drain, grace and hang margin before it is killed', () => {
    const stopGraceMs = nginxTimeMs(replicas[0]![1]['stop_grace_period']);
    expect(replicaConfig.shutdown_drain_ms + replicaConfig.shutdown_grace_ms + SHUTDOWN_HANG_MARGIN_MS).toBeLessThanOrEqual(stopGraceMs);
  });

  it('puts nginx in front, with the shipped configuration, once every replica is healthy', () => {
    const proxy = compose['services'].nginx;
    expect(proxy.image).toMatch(/^nginx:/);
    expect(proxy.volumes).toEqual([`./${NGINX_CONF_PATH}:/etc/nginx/nginx.conf:ro`]);
    expect(proxy.depends_on).toEqual(Object.fromEntries(replicas.map(([name]) => [name, { condition: 'service_healthy' }])));
    const listenPort = argsOf('listen')[0];
    expect(proxy.ports).toEqual([`3000:${listenPort}`]);
  });
});

describe('the nginx configuration', () => {
  it('sends to every compose replica, on the port it listens on, each with passive health checks', () => {
    const servers = findAll(upstream.block!, 'server');
    expect(servers.map((server) => server.args[0])).toEqual(replicas.map(([name]) => `${name}:${replicaConfig.port}`));
    for (const server of servers) {
      expect(server.args.slice(1)).toEqual([expect.stringMatching(/^max_fails=\d+$/), expect.stringMatching(/^fail_timeout=\d+s$/), expect.stringMatching(/^max_conns=\d+$/)]);
    }
  });

  it('keeps the replicas\' failure state in one zone shared by every nginx worker', () => {
    // Otherwise a worker may still count a restarted replica as down while another already sends to it.
    expect(argsOf('zone', upstream.block)).toEqual(['divy', expect.stringMatching(/^\d+k$/)]);
  });

  it('closes idle upstream connections before the service does', () => {
    expect(argsOf('keepalive', upstream.block)).toHaveLength(1);
    expect(nginxTimeMs(argsOf('keepalive_timeout', upstream.block)[0]!)).toBeLessThan(replicaConfig.connection_limits.keep_alive_timeout_ms);
    // Upstream keep-alive needs HTTP/1.1 without a Connection header.
    expect(argsOf('proxy_http_version', proxyServer.block)).toEqual(['1.1']);
    expect(findAll(proxyServer.block!, 'proxy_set_header').map((header) => header.args)).toContainEqual(['Connection', '']);
  });

  it('has the timeouts of the service', () => {
    const limits = replicaConfig.connection_limits;
    expect(nginxTimeMs(argsOf('client_header_timeout')[0]!)).toBe(limits.headers_timeout_ms);
    expect(nginxTimeMs(argsOf('client_body_timeout')[0]!)).toBe(limits.request_timeout_ms);
    expect(nginxTimeMs(argsOf('proxy_send_timeout', proxyServer.block)[0]!)).toBe(limits.request_timeout_ms);
    const readMs = nginxTimeMs(argsOf('proxy_read_timeout', proxyServer.block)[0]!);
    expect(readMs).toBe(limits.request_timeout_ms);
    expect(readMs).toBeLessThan(idleSocketTimeoutMs(limits));
    expect(nginxTimeMs(argsOf('proxy_connect_timeout', proxyServer.block)[0]!)).toBeLessThan(limits.headers_timeout_ms);
  });

  it('takes bodies up to the service body limit', () => {
    expect(nginxSizeBytes(argsOf('client_max_body_size')[0]!)).toBe(replicaConfig.body_limit_bytes);
  });

  it('retries failed attempts on the next replica, POSTs included, boundedly', () => {
    expect(argsOf('proxy_next_upstream', proxyServer.block)).toEqual(['error', 'timeout', 'http_502', 'non_idempotent']);
    expect(Number(argsOf('proxy_next_upstream_tries', proxyServer.block)[0])).toBeGreaterThanOrEqual(2);
    expect(nginxTimeMs(argsOf('proxy_next_upstream_timeout', proxyServer.block)[0]!)).toBeGreaterThan(0);
  });

  it('passes the request id on, and makes one when the caller sent none', () => {
    const requestId = findAll(proxyServer.block!, 'proxy_set_header').find((header) => header.args[0]!.toLowerCase() === REQUEST_ID_HEADER);
    expect(requestId?.args).toEqual(['X-Request-Id', '$divy_request_id']);
    expect(findOne(nginx, 'map')).toEqual({
      name: 'map',
      args: ['$http_x_request_id', '$divy_request_id'],
      block: [
        { name: 'default', args: ['$request_id'] },
        // The ids the service keeps, and nothing that would break the JSON nginx writes itself.
        { name: '~^[A-Za-z0-9._:@/+=-]{1,128}$', args: ['$http_x_request_id'] },
      ],
    });
  });

  it("hands a replica's 503 and nginx's own 502 and 504 to locations of their own, so none counts toward max_fails", () => {
    expect(locations.map((location) => location.args)).toEqual([['/'], ['@no_replica'], ['@replica_503']]);
    const root = locationNamed('/').block!;
    expect(argsOf('proxy_pass', root)).toEqual(['http://divy']);
    expect(argsOf('proxy_intercept_errors', root)).toEqual(['on']);
    expect(findAll(root, 'error_page').map((page) => page.args)).toEqual([
      ['503', '=', '@replica_503'],
      ['502', '504', '=', '@no_replica'],
    ]);
    // Shedding (Retry-After) is passed on; anything else is tried once more on the next replica.
    const replica503 = locationNamed('@replica_503').block!;
    const shedding = findOne(replica503, 'if');
    expect(shedding.args).toEqual(['($upstream_http_retry_after)']);
    expect(argsOf('return', shedding.block)[0]).toBe('503');
    expect(findAll(shedding.block!, 'add_header').map((header) => header.args)).toContainEqual(['Retry-After', '$upstream_http_retry_after', 'always']);
    expect(argsOf('proxy_pass', replica503)).toEqual(['http://divy']);
    const noReplica = locationNamed('@no_replica').block!;
    expect(argsOf('return', noReplica)[0]).toBe('503');
    expect(findAll(noReplica, 'add_header').map((header) => header.args)).toContainEqual(['Retry-After', '1', 'always']);
  });

  it('writes refusals that are problem documents with the shape of the service\'s own', () => {
    for (const name of ['@replica_503', '@no_replica']) {
      const location = locationNamed(name).block!;
      expect(argsOf('default_type', location)).toEqual(['application/problem+json; charset=utf-8']);
      const body = JSON.parse(argsOf('return', location)[1]!.replaceAll('$upstream_http_retry_after', '1').replaceAll('$divy_request_id', 'id-1')) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['type', 'title', 'status', 'detail', 'request_id']);
      expect(body).toMatchObject({ type: 'urn:divy:problem:overloaded', title: 'Service Unavailable', status: 503, request_id: 'id-1' });
    }
  });
});
