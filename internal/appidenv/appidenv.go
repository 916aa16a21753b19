// Package appidenv reads, for the commands that serve an app (demo, proxy), the relying party's settings from the
// environment: the appid.Config that appid.ConfigFromLookup reads, and what the commands add around the library,
// which Auth itself never reads: the App ID settings that a Code Engine service binding supplies (CE_SERVICES),
// and the Redis session store (APPIDGATE_REDIS_URL, APPIDGATE_REDIS_CA_CERT).
package appidenv

import (
	"errors"
	"strings"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/appid/session/redisstore"
	"github.com/appidgate/appidgate/internal/settings"
)

// Settings are the relying party's settings as the serving commands read them.
type Settings struct {
	// Config is what appid.New takes.
	Config appid.Config
	// Redis says where sessions are kept when not in cookies.
	Redis Redis
	// Binding is the Code Engine App ID binding that supplied settings (see CEServicesBinding); zero when none did.
	Binding ServiceBinding
}

// Redis names the Redis session store.
type Redis struct {
	// URL, when set, keeps sessions in Redis instead of cookies [APPIDGATE_REDIS_URL]: the command builds a
	// redisstore.RedisStore from it and passes it as appid.Config.Store.
	URL string
	// CACert is the CA certificate (PEM, or base64 of PEM as IBM Cloud Databases for Redis gives it) that signs
	// the rediss:// server's certificate, in place of the system's CAs [APPIDGATE_REDIS_CA_CERT]; see
	// redisstore.ParseRedisCACert and redisstore.NewRedisClient.
	CACert string
}

// Read reads Settings through lookup (os.LookupEnv in production) and validates them. On a refused configuration
// the error is an *appid.ConfigError naming every missing or invalid setting at once, by its environment
// variable: those of CE_SERVICES first, then appid.ConfigFromLookup's, then the Redis settings'.
func Read(lookup func(string) (string, bool)) (Settings, error) {
	r := settings.NewReader(lookup, nil)
	binding, problems := readCEServices(r) // a Code Engine App ID binding, see CEServicesBinding
	cfg, err := appid.ConfigFromLookup(binding.lookup(r, lookup))
	if err != nil {
		var ce *appid.ConfigError
		if !errors.As(err, &ce) {
			return Settings{}, err
		}
		problems = append(problems, ce.Problems...)
	}
	redis := Redis{URL: r.String("APPIDGATE_REDIS_URL"), CACert: r.String("APPIDGATE_REDIS_CA_CERT")}
	problems = append(problems, redis.problems()...)
	if len(problems) > 0 {
		return Settings{}, &appid.ConfigError{Problems: problems}
	}
	return Settings{Config: cfg, Redis: redis, Binding: binding.ServiceBinding}, nil
}

// problems lists what is wrong with the Redis settings.
func (s Redis) problems() []appid.Problem {
	if s.CACert == "" {
		return nil
	}
	if _, err := redisstore.ParseRedisCACert(s.CACert); err != nil {
		reason := strings.TrimPrefix(err.Error(), "session: redis CA certificate: ")
		return []appid.Problem{{Setting: "APPIDGATE_REDIS_CA_CERT", Reason: reason}}
	}
	if !strings.HasPrefix(s.URL, "rediss://") {
		return []appid.Problem{{Setting: "APPIDGATE_REDIS_CA_CERT",
			Reason: "set, but APPIDGATE_REDIS_URL is not a rediss:// (TLS) URL"}}
	}
	return nil
}
