// Berth's JSON schema for compose files: the part of the compose specification that Berth
// implements, written for Berth (the keys, their types and short/long syntaxes follow the
// compose-spec's documentation). A key outside it is an error naming file, line and key, so a
// file never silently loses an option. `x-` extension keys are allowed where the spec allows them.
type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const strOrNum: Schema = { type: ['string', 'number'] };
const bool: Schema = { type: 'boolean' };
const int: Schema = { type: 'integer' };
const strList: Schema = { type: 'array', items: str };
const stringOrList: Schema = { oneOf: [str, strList] };
const ext = { '^x-': {} };
/** KEY=VALUE list or a mapping of scalars (null allowed: "take it from the environment"). */
const listOrDict: Schema = {
  oneOf: [
    { type: 'object', patternProperties: { '.+': { type: ['string', 'number', 'boolean', 'null'] } }, additionalProperties: false },
    { type: 'array', items: str, uniqueItems: true },
  ],
};
const duration: Schema = { type: ['string', 'number'] };

const healthcheck: Schema = {
  type: 'object',
  additionalProperties: false,
  patternProperties: ext,
  properties: {
    disable: bool,
    test: stringOrList,
    interval: duration,
    timeout: duration,
    start_period: duration,
    start_interval: duration,
    retries: { type: ['integer', 'string'] },
  },
};

const port: Schema = {
  oneOf: [
    strOrNum,
    {
      type: 'object',
      additionalProperties: false,
      patternProperties: ext,
      properties: { name: str, mode: str, host_ip: str, target: { type: ['integer', 'string'] }, published: strOrNum, protocol: str, app_protocol: str },
      required: ['target'],
    },
  ],
};

const volumeMount: Schema = {
  oneOf: [
    str,
    {
      type: 'object',
      additionalProperties: false,
      patternProperties: ext,
      required: ['type', 'target'],
      properties: {
        type: { enum: ['bind', 'volume', 'tmpfs'] },
        source: str,
        target: str,
        read_only: bool,
        consistency: str,
        bind: { type: 'object', additionalProperties: false, properties: { propagation: str, create_host_path: bool, selinux: str } },
        volume: { type: 'object', additionalProperties: false, properties: { nocopy: bool, subpath: str } },
        tmpfs: { type: 'object', additionalProperties: false, properties: { size: strOrNum, mode: strOrNum } },
      },
    },
  ],
};

const fileRef: Schema = {
  oneOf: [
    str,
    { type: 'object', additionalProperties: false, properties: { source: str, target: str, uid: str, gid: str, mode: strOrNum } },
  ],
};

const service: Schema = {
  type: 'object',
  additionalProperties: false,
  patternProperties: ext,
  properties: {
    image: str,
    build: {
      oneOf: [
        str,
        {
          type: 'object',
          additionalProperties: false,
          patternProperties: ext,
          properties: { context: str, dockerfile: str, args: listOrDict, target: str, labels: listOrDict, network: str, no_cache: bool, pull: bool },
        },
      ],
    },
    command: { oneOf: [str, strList, { type: 'null' }] },
    entrypoint: { oneOf: [str, strList, { type: 'null' }] },
    environment: listOrDict,
    env_file: { oneOf: [str, { type: 'array', items: { oneOf: [str, { type: 'object', properties: { path: str, required: bool }, required: ['path'], additionalProperties: false }] } }] },
    ports: { type: 'array', items: port },
    expose: { type: 'array', items: strOrNum },
    volumes: { type: 'array', items: volumeMount },
    networks: {
      oneOf: [
        strList,
        {
          type: 'object',
          patternProperties: {
            '^[a-zA-Z0-9._-]+$': {
              oneOf: [
                { type: 'null' },
                { type: 'object', additionalProperties: false, patternProperties: ext, properties: { aliases: strList, ipv4_address: str, ipv6_address: str, priority: int } },
              ],
            },
          },
          additionalProperties: false,
        },
      ],
    },
    depends_on: {
      oneOf: [
        strList,
        {
          type: 'object',
          patternProperties: {
            '^[a-zA-Z0-9._-]+$': {
              type: 'object',
              additionalProperties: false,
              patternProperties: ext,
              properties: { condition: { enum: ['service_started', 'service_healthy', 'service_completed_successfully'] }, restart: bool, required: bool },
              required: ['condition'],
            },
          },
          additionalProperties: false,
        },
      ],
    },
    healthcheck,
    restart: { type: 'string', pattern: '^(no|always|unless-stopped|on-failure(:[0-9]+)?)$' },
    deploy: {
      type: 'object',
      additionalProperties: false,
      patternProperties: ext,
      properties: {
        replicas: int,
        resources: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limits: { type: 'object', additionalProperties: false, properties: { cpus: strOrNum, memory: str, pids: int } },
          },
        },
      },
    },
    labels: listOrDict,
    profiles: strList,
    user: str,
    working_dir: str,
    hostname: str,
    domainname: str,
    tmpfs: stringOrList,
    extra_hosts: listOrDict,
    init: bool,
    stop_grace_period: duration,
    stop_signal: str,
    container_name: str,
    privileged: bool,
    read_only: bool,
    cap_add: strList,
    cap_drop: strList,
    tty: bool,
    stdin_open: bool,
    dns: stringOrList,
    shm_size: strOrNum,
    mem_limit: strOrNum,
    cpus: strOrNum,
    pull_policy: { enum: ['always', 'never', 'missing', 'if_not_present', 'build'] },
    scale: int,
    extends: {
      oneOf: [str, { type: 'object', additionalProperties: false, properties: { service: str, file: str }, required: ['service'] }],
    },
    configs: { type: 'array', items: fileRef },
    secrets: { type: 'array', items: fileRef },
  },
};

/** A top-level network or volume: null, or a mapping with these keys and `props`. */
const driverObject = (props: Schema): Schema => ({
  oneOf: [
    { type: 'null' },
    {
      type: 'object',
      additionalProperties: false,
      patternProperties: ext,
      properties: {
        name: str,
        driver: str,
        driver_opts: { type: 'object', patternProperties: { '.+': strOrNum } },
        external: { oneOf: [bool, { type: 'object', properties: { name: str }, additionalProperties: false }] },
        labels: listOrDict,
        ...props,
      },
    },
  ],
});

const network: Schema = driverObject({
  internal: bool,
  attachable: bool,
  enable_ipv6: bool,
  ipam: {
    type: 'object',
    additionalProperties: false,
    properties: {
      driver: str,
      config: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { subnet: str, ip_range: str, gateway: str } } },
    },
  },
});

const volume: Schema = driverObject({});

const fileDef: Schema = {
  type: 'object',
  additionalProperties: false,
  patternProperties: ext,
  properties: { name: str, file: str, environment: str, content: str, external: bool },
};

const idMap = (item: Schema): Schema => ({ type: 'object', patternProperties: { '^[a-zA-Z0-9._-]+$': item }, additionalProperties: false });

export const COMPOSE_SCHEMA: Schema = {
  $id: 'berth-compose',
  type: 'object',
  additionalProperties: false,
  patternProperties: ext,
  properties: {
    version: str,
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' },
    include: {
      type: 'array',
      items: {
        oneOf: [
          str,
          { type: 'object', additionalProperties: false, properties: { path: stringOrList, project_directory: str, env_file: stringOrList }, required: ['path'] },
        ],
      },
    },
    services: idMap(service),
    networks: idMap(network),
    volumes: idMap(volume),
    configs: idMap(fileDef),
    secrets: idMap(fileDef),
  },
};
