package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/appid/iam"
	"github.com/appidgate/appidgate/internal/appidenv"
	"github.com/appidgate/appidgate/internal/problem"
	"github.com/appidgate/appidgate/internal/settings"
	"github.com/appidgate/appidgate/localappid"
)

// trustedProfileCheckTimeout bounds the IAM exchange made at start with a trusted profile.
const trustedProfileCheckTimeout = 10 * time.Second

// relyingParty is what the serving commands (demo, proxy) share: the configuration read from the environment,
// the listener, the embedded local provider when App ID is not configured, and the app (Auth with its metrics,
// readiness checks and session store).
type relyingParty struct {
	opts  serveOptions
	cfg   appid.Config
	redis appidenv.Redis // where sessions are kept when not in cookies
	ln    net.Listener
	port  int
	local bool               // the embedded local provider stands in for App ID
	idp   *localappid.Server // nil unless local
	app   *app
}

// startRelyingParty reads and checks the configuration, naming every problem at once together with extra (the
// command's own problems), then listens and builds the app. With APPID_OAUTH_SERVER_URL (or APPIDGATE_ISSUER_URL)
// set it uses that App ID instance and needs all six reference variables, or with APPIDGATE_PROVIDER=oidc that
// OpenID Connect provider; without it, it starts the local provider in-process on its own origin, unless
// APPIDGATE_REQUIRE_APPID forbids that (as the container image does). On failure it has written
// the reason and returns nil with the exit code.
func startRelyingParty(ctx context.Context, e env, command string, extra []appid.Problem, configure func(*appid.Config)) (*relyingParty, int) {
	opts, problems := readServeOptions(e)
	problems = append(problems, extra...)
	binding, bindingErr := appidenv.CEServicesBinding(e.lookupEnv) // App ID bound to the Code Engine app
	// Without an issuer (or an App ID binding) the local provider stands in for App ID; a generic OpenID Connect
	// provider has no stand-in.
	r := settings.NewReader(e.lookupEnv, nil) // appidenv.Read reports the problems of these
	local := r.String("APPID_OAUTH_SERVER_URL") == "" && r.String("APPIDGATE_ISSUER_URL") == "" &&
		binding.Name == "" && bindingErr == nil && !strings.EqualFold(r.String("APPIDGATE_PROVIDER"), appid.ProviderOIDC)
	switch {
	case local && opts.requireAppID && !opts.localIdP:
		// Let the library name every missing variable, exactly as it would with a partial configuration.
		_, err := appidenv.Read(e.lookupEnv)
		problems = append(problems, appid.Problem{Reason: "APPIDGATE_REQUIRE_APPID is set (as in the container image), so the local provider is off and App ID settings are required:"})
		problems = append(problems, problem.Of(err)...)
	case local:
		// Check the settings the user gave against stand-in provider values, so that every problem is named
		// before anything starts.
		lookup, _ := localLookup(e.lookupEnv, placeholderProvider, 5000, opts.localIdP)
		if _, err := appidenv.Read(lookup); err != nil {
			problems = append(problems, problem.Of(err)...)
		}
	default:
		if _, err := appidenv.Read(e.lookupEnv); err != nil {
			problems = append(problems, problem.Of(err)...)
		}
	}
	if len(problems) > 0 {
		return nil, configError(e, problems)
	}
	log := opts.logger

	host := ""
	if local && !opts.localIdP {
		// The demo users have well-known passwords: keep the fallback demo on this machine. Asking for the local
		// provider explicitly (APPIDGATE_LOCAL_IDP, say in a container) listens on every interface.
		host = "127.0.0.1"
	}
	addr := opts.listenAddr(host)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fix := "set PORT (or APPIDGATE_LISTEN_ADDR)"
		if opts.addr != "" {
			fix = "set APPIDGATE_LISTEN_ADDR"
		}
		fmt.Fprintf(e.stderr, "appidgate %s: %s\n", command, listenProblem(addr, err, fix))
		return nil, 1
	}
	rp := &relyingParty{opts: opts, ln: ln, port: ln.Addr().(*net.TCPAddr).Port, local: local}

	lookup := e.lookupEnv
	if local {
		idpCfg := localappid.DefaultConfig()
		idpCfg.SigningKey = e.signingKey // nil but in tests: a key of its own
		idpCfg.BaseURL = opts.idpPublicURL()
		idpCfg.ShowUsers = true // the demo data: its sign-in page lists the users
		idpCfg.TemplatesDir = r.String("APPIDGATE_TEMPLATES_DIR")
		redirectURI, _ := localRedirectURI(e.lookupEnv, rp.port, opts.localIdP)
		idpCfg = withPublicURL(idpCfg, redirectURI, r.String("APPIDGATE_POST_LOGOUT_PATH"))
		rp.idp, err = localappid.Listen(opts.idpAddr, idpCfg)
		if err != nil {
			rp.Close()
			fmt.Fprintf(e.stderr, "appidgate %s: starting the local provider: %s\n", command,
				listenProblem(opts.idpAddr, err, "set APPIDGATE_IDP_ADDR"))
			return nil, 1
		}
		var ignored []string
		lookup, ignored = localLookup(e.lookupEnv, rp.idp.Provider(), rp.port, opts.localIdP)
		if len(ignored) > 0 {
			log.Warn("APPID_OAUTH_SERVER_URL is not set, so the local provider is used and these settings are ignored",
				"ignored", strings.Join(ignored, ","))
		}
	}

	s, err := appidenv.Read(lookup)
	if err != nil {
		rp.Close()
		return nil, configError(e, problem.Of(err))
	}
	rp.cfg, rp.redis = s.Config, s.Redis
	if configure != nil {
		configure(&rp.cfg)
	}
	if binding.Name != "" {
		log.Info("App ID settings read from CE_SERVICES binding "+binding.Name, "settings", strings.Join(binding.Settings, ","))
	}
	if rp.app, err = newApp(ctx, rp.cfg, rp.redis, opts); err != nil {
		rp.Close()
		fmt.Fprintf(e.stderr, "appidgate %s: %v\n", command, err)
		return nil, 1
	}
	if err := rp.checkTrustedProfile(ctx); err != nil {
		rp.Close()
		fmt.Fprintf(e.stderr, "appidgate %s: %v\n", command, err)
		return nil, 1
	}
	return rp, 0
}

// usesTrustedProfile reports whether cfg reads roles with an IAM trusted profile rather than an API key.
func usesTrustedProfile(cfg appid.Config) bool {
	return cfg.Provider == appid.ProviderAppID && cfg.IBMCloudAPIKey == "" &&
		(cfg.IAMProfileID != "" || cfg.IAMProfileName != "")
}

// checkTrustedProfile exchanges the compute-resource token once at start when roles are read with a trusted
// profile, so that a profile IAM refuses (a wrong id, no trust for this app) stops the start with its name
// rather than failing every login. IAM out of reach is only logged: readiness reports it until it answers.
func (rp *relyingParty) checkTrustedProfile(ctx context.Context) error {
	if !usesTrustedProfile(rp.cfg) {
		return nil
	}
	setting, profile := "APPIDGATE_IAM_PROFILE_ID", rp.cfg.IAMProfileID
	if profile == "" {
		setting, profile = "APPIDGATE_IAM_PROFILE_NAME", rp.cfg.IAMProfileName
	}
	ctx, cancel := context.WithTimeout(ctx, trustedProfileCheckTimeout)
	defer cancel()
	err := rp.app.auth.IAMReady(ctx)
	var refused *iam.Error
	var unreadable *iam.CRTokenFileError
	switch {
	case err == nil:
		rp.opts.logger.Info("IAM token obtained for the trusted profile", "profile", profile)
		return nil
	case errors.As(err, &refused):
		return fmt.Errorf("%s: IAM refused to exchange the compute-resource token for trusted profile %q "+
			"(is the profile's trust given to this app?): %v", setting, profile, err)
	case errors.As(err, &unreadable):
		return fmt.Errorf("APPIDGATE_IAM_CR_TOKEN_FILE: %v", err)
	default:
		rp.opts.logger.Warn("no IAM token for the trusted profile yet; /readyz reports it until IAM answers",
			"profile", profile, "err", err)
		return nil
	}
}

// Close stops what startRelyingParty started.
func (rp *relyingParty) Close() {
	if rp.app != nil {
		rp.app.Close()
	}
	if rp.idp != nil {
		rp.idp.Close()
	}
	rp.ln.Close()
}
