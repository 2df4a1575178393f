-- Identities of one account: users, their access keys (secrets sealed under the store key),
-- inline policies and tags; roles, their trust and inline policies and tags.
CREATE TABLE store_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    account TEXT NOT NULL,
    -- A constant sealed under the store key: opening it proves the key is the right one.
    key_check BLOB NOT NULL,
    -- Bumped by every write (the first statement of each write transaction, which also
    -- serialises writers); other processes poll it.
    generation INTEGER NOT NULL,
    created INTEGER NOT NULL
);

CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    created INTEGER NOT NULL
);

CREATE TABLE user_tags (
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    key_fold TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user_id, key_fold)
);

CREATE TABLE user_policies (
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (user_id, name_key)
);

CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id),
    -- version (1 byte) | nonce (24 bytes) | XChaCha20-Poly1305 ciphertext of the secret
    secret BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
    created INTEGER NOT NULL,
    last_used INTEGER,
    last_service TEXT,
    last_region TEXT
);
CREATE INDEX access_keys_by_user ON access_keys (user_id);

CREATE TABLE roles (
    role_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    trust_policy TEXT NOT NULL,
    description TEXT,
    max_session INTEGER NOT NULL,
    created INTEGER NOT NULL,
    last_used INTEGER,
    last_region TEXT
);

CREATE TABLE role_tags (
    role_id TEXT NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    key_fold TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (role_id, key_fold)
);

CREATE TABLE role_policies (
    role_id TEXT NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (role_id, name_key)
);
