-- Identities of one account: users, their access keys (secrets sealed under the store key),
-- inline policies and tags; roles, their trust and inline policies and tags.
CREATE TABLE store_meta (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    account TEXT NOT NULL,
    -- A constant sealed under the store key: opening it proves the key is the right one.
    key_check BYTEA NOT NULL,
    -- Bumped by every write (the first statement of each write transaction, which also
    -- serialises writers); other processes poll it.
    generation BIGINT NOT NULL,
    created BIGINT NOT NULL
);

CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT COLLATE "C" NOT NULL UNIQUE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    created BIGINT NOT NULL
);

CREATE TABLE user_tags (
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    key_fold TEXT COLLATE "C" NOT NULL,
    tag_key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user_id, key_fold)
);

CREATE TABLE user_policies (
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    name_key TEXT COLLATE "C" NOT NULL,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (user_id, name_key)
);

CREATE TABLE access_keys (
    access_key_id TEXT COLLATE "C" PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id),
    -- version (1 byte) | nonce (24 bytes) | XChaCha20-Poly1305 ciphertext of the secret
    secret BYTEA NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
    created BIGINT NOT NULL,
    last_used BIGINT,
    last_service TEXT,
    last_region TEXT
);
CREATE INDEX access_keys_by_user ON access_keys (user_id);

CREATE TABLE roles (
    role_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT COLLATE "C" NOT NULL UNIQUE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    trust_policy TEXT NOT NULL,
    description TEXT,
    max_session BIGINT NOT NULL,
    created BIGINT NOT NULL,
    last_used BIGINT,
    last_region TEXT
);

CREATE TABLE role_tags (
    role_id TEXT NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    key_fold TEXT COLLATE "C" NOT NULL,
    tag_key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (role_id, key_fold)
);

CREATE TABLE role_policies (
    role_id TEXT NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    name_key TEXT COLLATE "C" NOT NULL,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (role_id, name_key)
);
