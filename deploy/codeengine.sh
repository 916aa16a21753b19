#!/usr/bin/env bash
# codeengine.sh deploys appidgate to IBM Cloud Code Engine with the same steps as the python-appid-auth
# reference README, one subcommand per step. Run it from anywhere; it only calls the ibmcloud CLI
# (with the code-engine plugin), after `ibmcloud login`.
set -euo pipefail

readonly PROG=codeengine.sh

usage() {
	cat <<'EOF'
usage: deploy/codeengine.sh [--dry-run] [--NAME VALUE ...] COMMAND

Deploys appidgate to IBM Cloud Code Engine, step by step as in the python-appid-auth reference.
Log in first: ibmcloud login (and ibmcloud plugin install code-engine).

commands (in the order of a first deployment):
  project      create the Code Engine project (it becomes the current one)
  registry     create the registry secret Code Engine uses to push and pull the image
  secret       create the app secret: APPID_CLIENT_ID, APPID_CLIENT_SECRET, SESSION_SECRET_KEY, IBM_CLOUD_APIKEY
  build        create the build configuration (Dockerfile strategy, from the Git repository)
  buildrun     run the build and wait for it: the image lands in IBM Cloud Container Registry
  app-create   create the application with probes, scaling, the secret and the App ID settings; without
               APPID_REDIRECT_URI (first deployment: the URL is not known yet) it does not wait for the app,
               which cannot start until app-update sets APPID_REDIRECT_URI
  app-update   set the secret (--env-from-secret), APPID_OAUTH_SERVER_URL and APPID_REDIRECT_URI on the app
  url          print the application URL: register URL/afterauth and URL/noauth_route (where logout
               lands) as redirect URIs in App ID
  redeploy     after a source change: build a new image tag, update the app to it (a new revision)
  rotate-session-key
               replace SESSION_SECRET_KEY (the current key) by --new-session-key without signing anyone
               out, in two steps, each a secret update and an app update that waits for the new revision:
               1. the app seals with the current key and accepts the new one (APPIDGATE_SESSION_PREVIOUS_KEYS);
               2. the app seals with the new key and accepts the current one. See docs/sessions.md.
  cleanup      delete the app, build, secrets and project (--hard)
  all          project, registry, secret, build, buildrun, app-create, url; without APPID_REDIRECT_URI
               then app-update with APPID_REDIRECT_URI set from the app URL; with --service-instance, bind last

App ID as a service binding instead of the secret's credentials (--service-instance):
  bind         bind the App ID instance --service-instance to --app (ibmcloud ce application bind): the
               app finds App ID's clientId, secret, oauthServerUrl and apikey in CE_SERVICES and uses them
               while APPID_CLIENT_ID, APPID_CLIENT_SECRET and APPID_OAUTH_SERVER_URL are all unset on it
  With --service-instance set, secret stores only SESSION_SECRET_KEY, app-create, app-update and the proxy
  commands set no APPID_OAUTH_SERVER_URL, and app-create does not wait (the app starts once bound); giving
  APPID_CLIENT_ID, APPID_CLIENT_SECRET or APPID_OAUTH_SERVER_URL as well is refused, as they would win.

commands for `appidgate proxy` in front of your own app (after project, registry and secret):
  proxy-one    one container: build your image from --source-dir with your Dockerfile (its entry point runs
               appidgate proxy --upstream http://127.0.0.1:8000 -- YOUR COMMAND, see docs/code-engine.md), then
               create the app from it on port 8080 with the probes, the secret and the App ID settings, as app-create
  proxy-one-update
               after a change in --source-dir: build a new image tag and update the app to it
  proxy-two    two apps: your --upstream-image as --upstream-app with --visibility project (reachable only
               inside the project), then the appidgate image (build, buildrun) public in front of it as
               --app, running appidgate proxy with APPIDGATE_UPSTREAM set to the upstream's internal URL;
               your app should then verify the signed assertion (X-Appidgate-Assertion)

options:
  --dry-run    print the exact ibmcloud commands (secret values shown as ***) and run nothing

Images: a command that deploys an image it did not build checks first that IBM Cloud Container Registry
has it (ibmcloud cr image-inspect) and stops if not; the dry run says which images are built and which checked.
  -h, --help   show this help

values: each one from its flag or its environment variable (the flag wins); defaults in brackets.
  --project NAME            CE_PROJECT              Code Engine project [appidgate-proj]
  --region REGION           REGION                  ibmcloud target -r before the project step []
  --resource-group GROUP    RESOURCE_GROUP          ibmcloud target -g before the project step []
  --registry HOST           REGISTRY                Container Registry host [us.icr.io]
  --icr-namespace NS        ICR_NAMESPACE           Container Registry namespace (ibmcloud cr namespace-add)
  --image-name NAME         IMAGE_NAME              image repository name [appidgate-img]
  --image-tag TAG           IMAGE_TAG               image tag [latest; redeploy: UTC time, yyyymmdd-HHMMSS]
  --image REF               IMAGE                   full image reference [REGISTRY/ICR_NAMESPACE/IMAGE_NAME:IMAGE_TAG]
  --registry-secret NAME    REGISTRY_SECRET         registry secret name [appidgate-icr-cred]
  --build-name NAME         BUILD_NAME              build configuration name [appidgate-bld]
  --source URL              SOURCE_REPO             Git repository to build [https://github.com/appidgate/appidgate.git]
  --commit REF              SOURCE_COMMIT           branch, tag or commit [main]
  --build-size SIZE         BUILD_SIZE              build size [small]
  --app NAME                APP_NAME                application name [appidgate-app]
  --secret-name NAME        SECRET_NAME             app secret name [appidgate-app-secret]
  --min-scale N             MIN_SCALE               minimum instances; 0 scales to zero when idle [0]
  --max-scale N             MAX_SCALE               maximum instances; 0 for no limit but the quota [10]
  --concurrency N           CONCURRENCY             requests per instance before scaling out [100]
  --cpu N                   CPU                     vCPU per instance, e.g. 0.125, 0.5, 1 [0.25]
  --memory SIZE             MEMORY                  memory per instance, e.g. 512M, 0.5G, 2G [0.5G]
  --url-wait SECONDS        URL_WAIT_SECONDS        how long url and all wait for the app URL [60]
  --apikey KEY              IBM_CLOUD_APIKEY        IBM Cloud API key (registry password, roles lookup)
  --client-id ID            APPID_CLIENT_ID         App ID application clientId
  --client-secret SECRET    APPID_CLIENT_SECRET     App ID application secret
  --session-key KEY         SESSION_SECRET_KEY      session encryption key, >= 16 bytes [generated when unset]
  --new-session-key KEY     NEW_SESSION_KEY         rotate-session-key: the key that replaces SESSION_SECRET_KEY
                                                    [generated when unset]
  --oauth-server-url URL    APPID_OAUTH_SERVER_URL  App ID oAuthServerUrl
  --redirect-uri URL        APPID_REDIRECT_URI      APP-URL/afterauth (App ID also needs APP-URL/noauth_route)
                                                    [all: derived from the app URL]
  --service-instance NAME   APPID_SERVICE_INSTANCE  App ID instance to bind (ibmcloud resource service-instances) []
  --service-role ROLE       SERVICE_ROLE            bind: the service role of the binding's credential, e.g.
                                                    Manager [Code Engine's default]
  --trusted-profile ID      APPIDGATE_IAM_PROFILE_ID  read roles with this IAM trusted profile (Profile-...)
                                                    instead of an API key: the apps are created with
                                                    --trusted-profiles-enabled, the secret holds no
                                                    IBM_CLOUD_APIKEY (see docs/code-engine.md) []

values of the proxy commands (proxy-one: --app defaults to myapp, --image-name to APP-img, --build-name
to APP-bld; proxy-two: --app, the public proxy, defaults to UPSTREAM_APP-proxy):
  --source-dir DIR          SOURCE_DIR              proxy-one: directory of your app and its Dockerfile [.]
  --dockerfile PATH         DOCKERFILE              proxy-one: Dockerfile, relative to SOURCE_DIR [Dockerfile]
  --upstream-app NAME       UPSTREAM_APP            proxy-two: your app, visible in the project only [myapp]
  --upstream-image REF      UPSTREAM_IMAGE          proxy-two: your app's image
  --upstream-port N         UPSTREAM_PORT           proxy-two: the port your app listens on ($PORT) [8080]
  --public PATHS            PROXY_PUBLIC            proxy-two: appidgate proxy --public, e.g. /noauth_route []

Prefer environment variables over flags for secrets: flags end up in shell history.
A missing or invalid value stops the command before anything runs, naming every one (exit status 2).
EOF
}

die_usage() {
	echo "$PROG: $*" >&2
	echo "run '$PROG --help' for usage" >&2
	exit 2
}

note() { echo "$PROG: $*" >&2; }

# flag_var maps a flag name to the variable it sets.
flag_var() {
	case "$1" in
	--project) echo CE_PROJECT ;;
	--region) echo REGION ;;
	--resource-group) echo RESOURCE_GROUP ;;
	--registry) echo REGISTRY ;;
	--icr-namespace) echo ICR_NAMESPACE ;;
	--image-name) echo IMAGE_NAME ;;
	--image-tag) echo IMAGE_TAG ;;
	--image) echo IMAGE ;;
	--registry-secret) echo REGISTRY_SECRET ;;
	--build-name) echo BUILD_NAME ;;
	--source) echo SOURCE_REPO ;;
	--commit) echo SOURCE_COMMIT ;;
	--build-size) echo BUILD_SIZE ;;
	--app) echo APP_NAME ;;
	--secret-name) echo SECRET_NAME ;;
	--min-scale) echo MIN_SCALE ;;
	--max-scale) echo MAX_SCALE ;;
	--concurrency) echo CONCURRENCY ;;
	--cpu) echo CPU ;;
	--memory) echo MEMORY ;;
	--apikey) echo IBM_CLOUD_APIKEY ;;
	--client-id) echo APPID_CLIENT_ID ;;
	--client-secret) echo APPID_CLIENT_SECRET ;;
	--session-key) echo SESSION_SECRET_KEY ;;
	--new-session-key) echo NEW_SESSION_KEY ;;
	--oauth-server-url) echo APPID_OAUTH_SERVER_URL ;;
	--redirect-uri) echo APPID_REDIRECT_URI ;;
	--service-instance) echo APPID_SERVICE_INSTANCE ;;
	--service-role) echo SERVICE_ROLE ;;
	--trusted-profile) echo APPIDGATE_IAM_PROFILE_ID ;;
	--url-wait) echo URL_WAIT_SECONDS ;;
	--source-dir) echo SOURCE_DIR ;;
	--dockerfile) echo DOCKERFILE ;;
	--upstream-app) echo UPSTREAM_APP ;;
	--upstream-image) echo UPSTREAM_IMAGE ;;
	--upstream-port) echo UPSTREAM_PORT ;;
	--public) echo PROXY_PUBLIC ;;
	*) return 1 ;;
	esac
}

# flag_of is the reverse of flag_var, for messages.
flag_of() {
	case "$1" in
	CE_PROJECT) echo --project ;;
	ICR_NAMESPACE) echo --icr-namespace ;;
	IMAGE) echo --image ;;
	REGISTRY) echo --registry ;;
	REGISTRY_SECRET) echo --registry-secret ;;
	BUILD_NAME) echo --build-name ;;
	SOURCE_REPO) echo --source ;;
	SOURCE_COMMIT) echo --commit ;;
	APP_NAME) echo --app ;;
	SECRET_NAME) echo --secret-name ;;
	IBM_CLOUD_APIKEY) echo --apikey ;;
	APPID_CLIENT_ID) echo --client-id ;;
	APPID_CLIENT_SECRET) echo --client-secret ;;
	SESSION_SECRET_KEY) echo --session-key ;;
	NEW_SESSION_KEY) echo --new-session-key ;;
	APPID_OAUTH_SERVER_URL) echo --oauth-server-url ;;
	APPID_REDIRECT_URI) echo --redirect-uri ;;
	APPID_SERVICE_INSTANCE) echo --service-instance ;;
	MIN_SCALE) echo --min-scale ;;
	MAX_SCALE) echo --max-scale ;;
	CONCURRENCY) echo --concurrency ;;
	CPU) echo --cpu ;;
	MEMORY) echo --memory ;;
	URL_WAIT_SECONDS) echo --url-wait ;;
	SOURCE_DIR) echo --source-dir ;;
	DOCKERFILE) echo --dockerfile ;;
	UPSTREAM_APP) echo --upstream-app ;;
	UPSTREAM_IMAGE) echo --upstream-image ;;
	UPSTREAM_PORT) echo --upstream-port ;;
	*) echo "--?" ;;
	esac
}

DRY_RUN=0
COMMAND=""
while (($# > 0)); do
	case "$1" in
	-h | --help)
		usage
		exit 0
		;;
	--dry-run)
		DRY_RUN=1
		shift
		;;
	--*=*)
		var=$(flag_var "${1%%=*}") || die_usage "unknown flag ${1%%=*}"
		printf -v "$var" '%s' "${1#*=}"
		shift
		;;
	--*)
		var=$(flag_var "$1") || die_usage "unknown flag $1"
		(($# >= 2)) || die_usage "flag $1 needs a value"
		printf -v "$var" '%s' "$2"
		shift 2
		;;
	-*) die_usage "unknown flag $1" ;;
	*)
		[[ -z $COMMAND ]] || die_usage "one command at a time: got '$COMMAND' and '$1'"
		COMMAND=$1
		shift
		;;
	esac
done
[[ -n $COMMAND ]] || die_usage "no command given"

# The proxy commands deploy the user's app: defaults that never reuse the demo's app, image or build.
case "$COMMAND" in
proxy-one | proxy-one-update)
	: "${APP_NAME:=myapp}"
	: "${IMAGE_NAME:=$APP_NAME-img}"
	: "${BUILD_NAME:=$APP_NAME-bld}"
	;;
proxy-two)
	: "${UPSTREAM_APP:=myapp}"
	: "${APP_NAME:=$UPSTREAM_APP-proxy}"
	;;
esac

: "${CE_PROJECT:=appidgate-proj}"
: "${REGION:=}"
: "${RESOURCE_GROUP:=}"
: "${REGISTRY:=us.icr.io}"
: "${ICR_NAMESPACE:=}"
: "${IMAGE_NAME:=appidgate-img}"
# redeploy needs a tag the app has not run yet, or application update makes no new revision.
IMAGE_TAG_DEFAULTED=0
if [[ -z ${IMAGE_TAG:-} ]]; then
	IMAGE_TAG_DEFAULTED=1
	if [[ $COMMAND == redeploy || $COMMAND == proxy-one-update ]]; then
		IMAGE_TAG=$(date -u +%Y%m%d-%H%M%S)
	else
		IMAGE_TAG=latest
	fi
fi
: "${REGISTRY_SECRET:=appidgate-icr-cred}"
: "${BUILD_NAME:=appidgate-bld}"
: "${SOURCE_REPO:=https://github.com/appidgate/appidgate.git}"
: "${SOURCE_COMMIT:=main}"
: "${BUILD_SIZE:=small}"
: "${APP_NAME:=appidgate-app}"
: "${SECRET_NAME:=appidgate-app-secret}"
: "${MIN_SCALE:=0}"
: "${MAX_SCALE:=10}"
: "${CONCURRENCY:=100}"
: "${CPU:=0.25}"
: "${MEMORY:=0.5G}"
: "${IBM_CLOUD_APIKEY:=}"
: "${APPID_CLIENT_ID:=}"
: "${APPID_CLIENT_SECRET:=}"
: "${SESSION_SECRET_KEY:=}"
: "${NEW_SESSION_KEY:=}"
: "${APPID_OAUTH_SERVER_URL:=}"
: "${APPID_REDIRECT_URI:=}"
: "${APPID_SERVICE_INSTANCE:=}"
: "${SERVICE_ROLE:=}"
: "${APPIDGATE_IAM_PROFILE_ID:=}"
: "${URL_WAIT_SECONDS:=60}"
: "${SOURCE_DIR:=.}"
: "${DOCKERFILE:=Dockerfile}"
: "${UPSTREAM_APP:=myapp}"
: "${UPSTREAM_IMAGE:=}"
: "${UPSTREAM_PORT:=8080}"
: "${PROXY_PUBLIC:=}"
if [[ -z ${IMAGE:-} && -n $ICR_NAMESPACE ]]; then
	IMAGE="$REGISTRY/$ICR_NAMESPACE/$IMAGE_NAME:$IMAGE_TAG"
	if [[ $COMMAND == redeploy || $COMMAND == proxy-one-update ]] && ((IMAGE_TAG_DEFAULTED)); then
		note "$COMMAND: image tag $IMAGE_TAG (the current UTC time; --image-tag sets another)"
	fi
fi
: "${IMAGE:=}"

# The port the image listens on (Dockerfile: ENV PORT=8080, EXPOSE 8080).
readonly APP_PORT=8080

# With --service-instance, App ID is bound to the app: it reads clientId, secret, oauthServerUrl and apikey
# from CE_SERVICES, so neither the secret nor --env carries them. These name what the commands require instead,
# unquoted in the require calls: names without spaces, possibly none.
if [[ -n $APPID_SERVICE_INSTANCE ]]; then
	APPID_SECRET_VARS=""
	APPID_URL_VAR=""
else
	APPID_SECRET_VARS="APPID_CLIENT_ID APPID_CLIENT_SECRET IBM_CLOUD_APIKEY"
	APPID_URL_VAR=APPID_OAUTH_SERVER_URL
fi
# BIND_PENDING is 1 while `all` has yet to bind App ID: the app cannot become ready before, so nothing waits for it.
BIND_PENDING=0

# invalid_reason prints why a variable's value is not one Code Engine accepts, or nothing when it is.
# Whole numbers stay under 10 digits, so bash arithmetic on them cannot overflow.
invalid_reason() {
	local v=$1 value=${!1}
	case "$v" in
	MIN_SCALE | MAX_SCALE | CONCURRENCY | URL_WAIT_SECONDS)
		[[ $value =~ ^[0-9]{1,9}$ ]] || echo "expected a whole number >= 0, got '$value'"
		;;
	UPSTREAM_PORT)
		[[ $value =~ ^[0-9]{1,5}$ ]] && ((10#$value >= 1 && 10#$value <= 65535)) ||
			echo "expected a port from 1 to 65535, got '$value'"
		;;
	SOURCE_DIR)
		[[ -d $value ]] || echo "no such directory '$value'"
		;;
	DOCKERFILE)
		[[ ! -d $SOURCE_DIR || -f $SOURCE_DIR/$value ]] || echo "no file '$value' in SOURCE_DIR (--source-dir) '$SOURCE_DIR'"
		;;
	CPU)
		[[ $value =~ ^[0-9]{1,4}(\.[0-9]{1,3})?$ && $value =~ [1-9] ]] ||
			echo "expected a number of vCPU > 0 such as 0.25 or 1, got '$value'"
		;;
	SESSION_SECRET_KEY | NEW_SESSION_KEY)
		((${#value} >= 16)) || echo "expected at least 16 bytes (32 random bytes recommended), got ${#value}"
		[[ $v != NEW_SESSION_KEY || $value != "$SESSION_SECRET_KEY" ]] || echo "the same as SESSION_SECRET_KEY (--session-key)"
		;;
	MEMORY)
		[[ $value =~ ^[0-9]{1,6}(\.[0-9]{1,3})?(M|G|Mi|Gi)$ && ${value%%[MG]*} =~ [1-9] ]] ||
			echo "expected a size > 0 in M or G such as 512M or 0.5G, got '$value'"
		;;
	esac
}

# require stops with exit status 2 unless every named variable is set to a valid value, naming all the
# missing and invalid ones in one message.
require() {
	local bad=() v reason
	for v in "$@"; do
		if [[ -z ${!v} ]]; then
			if [[ $v == IMAGE ]]; then
				bad+=("ICR_NAMESPACE (--icr-namespace) or IMAGE (--image): missing")
			else
				bad+=("$v ($(flag_of "$v")): missing")
			fi
		elif reason=$(invalid_reason "$v") && [[ -n $reason ]]; then
			bad+=("$v ($(flag_of "$v")): $reason")
		fi
	done
	# A binding supplies App ID's settings only while the app has none of its own: given ones would win.
	if [[ -n $APPID_SERVICE_INSTANCE && $COMMAND != bind ]]; then
		for v in APPID_CLIENT_ID APPID_CLIENT_SECRET APPID_OAUTH_SERVER_URL; do
			[[ -z ${!v} ]] || bad+=("$v ($(flag_of "$v")): set together with APPID_SERVICE_INSTANCE (--service-instance), whose binding the app would then ignore; unset it or drop --service-instance")
		done
	fi
	# Checked only when both are valid numbers; max-scale 0 means no limit.
	if [[ " $* " == *" MIN_SCALE "* && -z $(invalid_reason MIN_SCALE) && -z $(invalid_reason MAX_SCALE) ]] &&
		((10#$MAX_SCALE > 0 && 10#$MIN_SCALE > 10#$MAX_SCALE)); then
		bad+=("MIN_SCALE (--min-scale): $MIN_SCALE is above MAX_SCALE (--max-scale) $MAX_SCALE")
	fi
	if ((${#bad[@]} > 0)); then
		echo "$PROG: cannot run '$COMMAND': missing or invalid values:" >&2
		printf '  %s\n' "${bad[@]}" >&2
		echo "set each as an environment variable or pass its flag; see '$PROG --help'" >&2
		exit 2
	fi
}

# quote prints one word so that a shell reads it back unchanged.
quote() {
	if [[ $1 =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
		printf '%s' "$1"
	else
		printf "'%s'" "${1//\'/\'\\\'\'}"
	fi
}

# is_secret reports whether a word is a secret value, alone (--password KEY) or as NAME=VALUE (--from-literal).
# Whole-word matching, so a secret that happens to be a substring of a name never mangles the command shown.
is_secret() {
	local s
	for s in "$IBM_CLOUD_APIKEY" "$APPID_CLIENT_ID" "$APPID_CLIENT_SECRET" "$SESSION_SECRET_KEY" "$NEW_SESSION_KEY"; do
		[[ -n $s ]] || continue
		if [[ $1 == "$s" || ($1 =~ ^[A-Za-z_][A-Za-z0-9_]*= && ${1#*=} == "$s") ]]; then
			return 0
		fi
	done
	return 1
}

# show prints a command line with every secret value replaced by ***.
show() {
	local line="" word
	for word in "$@"; do
		if is_secret "$word"; then
			if [[ $word =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
				word="${word%%=*}=***"
			else
				word="***"
			fi
		fi
		line+="${line:+ }$(quote "$word")"
	done
	printf '%s\n' "$line"
}

# ce runs one ibmcloud command, or only prints it under --dry-run.
ce() {
	if ((DRY_RUN)); then
		show ibmcloud "$@"
		return 0
	fi
	printf '+ %s\n' "$(show ibmcloud "$@")" >&2
	ibmcloud "$@"
}

# ce_tolerant is ce for cleanup: a resource that is already gone must not stop the others from going.
ce_tolerant() {
	ce "$@" || note "continuing: 'ibmcloud $1 $2 $3' failed"
}

PROJECT_SELECTED=0
select_project() {
	((PROJECT_SELECTED)) && return 0
	ce ce project select --name "$CE_PROJECT"
	PROJECT_SELECTED=1
}

ensure_session_key() {
	[[ -n $SESSION_SECRET_KEY ]] && return 0
	if command -v openssl >/dev/null 2>&1; then
		SESSION_SECRET_KEY=$(openssl rand -base64 32)
	else
		SESSION_SECRET_KEY=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
	fi
	note "SESSION_SECRET_KEY not set: generated a random 32-byte key for the secret (not shown; set SESSION_SECRET_KEY to keep sessions valid across re-creations of the secret)"
}

# IMAGE_BUILT is the image a build step of this run produced (under --dry-run: would produce).
IMAGE_BUILT=""

# check_image makes sure that image $1 ($2 says which it is, $3 how to make it) exists before a command deploys
# it: an image this run built needs no check; one in IBM Cloud Container Registry (*.icr.io) is looked up with
# `ibmcloud cr image-inspect`, and a missing one stops the command (exit status 1) before anything is created.
# Other registries cannot be asked from here: that is said, and Code Engine reports a missing image itself.
check_image() {
	local ref=$1 what=$2 how=$3
	if [[ -n $IMAGE_BUILT && $ref == "$IMAGE_BUILT" ]]; then
		note "$what $ref: built above"
		return 0
	fi
	if [[ ${ref%%/*} != *icr.io ]]; then
		note "$what $ref: not in IBM Cloud Container Registry, so not checked; Code Engine reports it if it cannot pull it"
		return 0
	fi
	if ((DRY_RUN)); then
		note "$what $ref: not built by '$COMMAND'; the image-inspect printed next checks that the registry has it, and a missing one stops the command"
		ce cr image-inspect "$ref"
		return 0
	fi
	if ! ce cr image-inspect "$ref" >/dev/null; then
		echo "$PROG: $what $ref not found in IBM Cloud Container Registry ('ibmcloud cr image-inspect' failed): $how" >&2
		exit 1
	fi
	note "$what $ref: found in the registry"
}

# image_hint says how the appidgate image --image comes to exist.
image_hint() {
	printf '%s' "build it first ('$PROG build' then '$PROG buildrun', with the same --image) or name an existing image with --image"
}

step_project() {
	if [[ -n $REGION || -n $RESOURCE_GROUP ]]; then
		local target=(target)
		[[ -n $REGION ]] && target+=(-r "$REGION")
		[[ -n $RESOURCE_GROUP ]] && target+=(-g "$RESOURCE_GROUP")
		ce "${target[@]}"
	fi
	ce ce project create --name "$CE_PROJECT"
	PROJECT_SELECTED=1
}

step_registry() {
	select_project
	ce ce registry create --name "$REGISTRY_SECRET" --server "$REGISTRY" --username iamapikey --password "$IBM_CLOUD_APIKEY"
}

step_secret() {
	ensure_session_key
	select_project
	if [[ -n $APPID_SERVICE_INSTANCE ]]; then
		# The binding brings App ID's credentials and an API key for the roles (bind).
		ce ce secret create --name "$SECRET_NAME" --from-literal "SESSION_SECRET_KEY=$SESSION_SECRET_KEY"
		return 0
	fi
	local args=(ce secret create --name "$SECRET_NAME"
		--from-literal "APPID_CLIENT_ID=$APPID_CLIENT_ID"
		--from-literal "APPID_CLIENT_SECRET=$APPID_CLIENT_SECRET"
		--from-literal "SESSION_SECRET_KEY=$SESSION_SECRET_KEY")
	# With a trusted profile the app reads roles with no API key: the key stays the registry's password only.
	[[ -n $APPIDGATE_IAM_PROFILE_ID ]] || args+=(--from-literal "IBM_CLOUD_APIKEY=$IBM_CLOUD_APIKEY")
	ce "${args[@]}"
}

# trusted_profile_args appends to the array named $1 what an app needs to read roles with the trusted profile:
# Code Engine mounts a compute-resource token only in apps created or updated with --trusted-profiles-enabled.
trusted_profile_args() {
	[[ -n $APPIDGATE_IAM_PROFILE_ID ]] || return 0
	local -n into=$1
	into+=(--trusted-profiles-enabled --env "APPIDGATE_IAM_PROFILE_ID=$APPIDGATE_IAM_PROFILE_ID")
}

step_build() {
	select_project
	ce ce build create --name "$BUILD_NAME" --source "$SOURCE_REPO" --commit "$SOURCE_COMMIT" \
		--image "$IMAGE" --registry-secret "$REGISTRY_SECRET" --strategy dockerfile --size "$BUILD_SIZE"
}

step_buildrun() {
	select_project
	ce ce buildrun submit --build "$BUILD_NAME" --wait
	IMAGE_BUILT=$IMAGE
}

# register_hint names both paths App ID must accept: the callback, and where logout sends the browser
# (App ID redirects after logout only to a registered URL).
register_hint() {
	note "register $1/afterauth and $1/noauth_route as redirect URIs in App ID (Manage Authentication > Authentication Settings), if not done yet"
}

step_app_create() {
	select_project
	check_image "$IMAGE" "image (--image)" "$(image_hint)"
	local args=(ce application create --name "$APP_NAME" --image "$IMAGE" --registry-secret "$REGISTRY_SECRET"
		--port "$APP_PORT" --min-scale "$MIN_SCALE" --max-scale "$MAX_SCALE" --concurrency "$CONCURRENCY"
		--cpu "$CPU" --memory "$MEMORY"
		--probe-live type=http --probe-live path=/healthz
		--probe-ready type=http --probe-ready path=/readyz
		--env-from-secret "$SECRET_NAME")
	trusted_profile_args args
	[[ -n $APPID_SERVICE_INSTANCE ]] || args+=(--env "APPID_OAUTH_SERVER_URL=$APPID_OAUTH_SERVER_URL")
	[[ -z $APPID_REDIRECT_URI ]] || args+=(--env "APPID_REDIRECT_URI=$APPID_REDIRECT_URI")
	if [[ -z $APPID_REDIRECT_URI || -n $APPID_SERVICE_INSTANCE ]]; then
		# The app exits at start without APPID_REDIRECT_URI or, bound to App ID, before bind: waiting for it to
		# be ready would only time out.
		args+=(--no-wait)
	fi
	ce "${args[@]}"
}

# app_update_args sets APP_UPDATE_ARGS to app-update's command up to the redirect URI, which comes last.
app_update_args() {
	APP_UPDATE_ARGS=(ce application update --name "$APP_NAME" --env-from-secret "$SECRET_NAME")
	[[ -n $APPID_SERVICE_INSTANCE ]] || APP_UPDATE_ARGS+=(--env "APPID_OAUTH_SERVER_URL=$APPID_OAUTH_SERVER_URL")
	((!BIND_PENDING)) || APP_UPDATE_ARGS+=(--no-wait)
}

step_app_update() {
	select_project
	app_update_args
	ce "${APP_UPDATE_ARGS[@]}" --env "APPID_REDIRECT_URI=$APPID_REDIRECT_URI"
}

step_bind() {
	select_project
	local args=(ce application bind --name "$APP_NAME" --service-instance "$APPID_SERVICE_INSTANCE")
	[[ -z $SERVICE_ROLE ]] || args+=(--role "$SERVICE_ROLE")
	ce "${args[@]}"
	note "$APP_NAME now finds App ID's clientId, secret, oauthServerUrl and apikey in CE_SERVICES; it uses them while APPID_CLIENT_ID, APPID_CLIENT_SECRET and APPID_OAUTH_SERVER_URL are all unset on the app (given ones win), and its log says 'App ID settings read from CE_SERVICES binding $APPID_SERVICE_INSTANCE'"
}

# app_url_wait sets APP_URL to the URL of application $1 (default APP_NAME), asking Code Engine every 2
# seconds for up to URL_WAIT_SECONDS: right after `application create --no-wait` the URL may not be assigned yet.
APP_URL=""
app_url_wait() {
	local name=${1:-$APP_NAME} deadline=$((SECONDS + 10#$URL_WAIT_SECONDS)) out line
	APP_URL=""
	while :; do
		out=$(ce ce application get --name "$name" --output url) || out=""
		while IFS= read -r line; do
			line=${line%$'\r'}
			if [[ $line =~ ^https?://[^[:space:]]+$ ]]; then
				APP_URL=${line%/}
			fi
		done <<<"$out"
		[[ -z $APP_URL ]] || return 0
		if ((SECONDS >= deadline)); then
			note "no URL for application $name after ${URL_WAIT_SECONDS}s; see 'ibmcloud ce application get --name $name'"
			return 1
		fi
		sleep 2
	done
}

# step_url prints the application URL on stdout (the command only, under --dry-run, and APP_URL becomes
# <app-url>) and warns when APPID_REDIRECT_URI points elsewhere.
step_url() {
	select_project
	if ((DRY_RUN)); then
		ce ce application get --name "$APP_NAME" --output url
		APP_URL="<app-url>"
	else
		app_url_wait || exit 1
		printf '%s\n' "$APP_URL"
	fi
	if [[ -n $APPID_REDIRECT_URI && $APPID_REDIRECT_URI != "$APP_URL"/* ]] && ((!DRY_RUN)); then
		note "warning: APPID_REDIRECT_URI $APPID_REDIRECT_URI does not start with the application URL $APP_URL; set it to $APP_URL/afterauth with app-update"
	fi
}

# step_redirect_from_url sets APPID_REDIRECT_URI from the URL step_url found and puts it on the app. Under
# --dry-run the URL is unknown: the printed command fetches it when pasted into a shell.
step_redirect_from_url() {
	if ((DRY_RUN)); then
		note "dry run: the app URL is known only after app-create, so the app-update printed next reads it with \$(ibmcloud ce application get ...); <app-url> stands for it here"
		app_update_args
		printf '%s "APPID_REDIRECT_URI=$(%s)/afterauth"\n' "$(show ibmcloud "${APP_UPDATE_ARGS[@]}" --env)" \
			"$(show ibmcloud ce application get --name "$APP_NAME" --output url)"
		return 0
	fi
	APPID_REDIRECT_URI="$APP_URL/afterauth"
	note "APPID_REDIRECT_URI not set: using $APPID_REDIRECT_URI"
	step_app_update
}

step_redeploy() {
	select_project
	ce ce build update --name "$BUILD_NAME" --image "$IMAGE"
	ce ce buildrun submit --build "$BUILD_NAME" --wait
	IMAGE_BUILT=$IMAGE
	ce ce application update --name "$APP_NAME" --image "$IMAGE"
}

# step_proxy_build builds the user's image from SOURCE_DIR with their Dockerfile: a local build, so the
# source is uploaded from this machine (Code Engine honours a .ceignore there).
step_proxy_build() {
	select_project
	if [[ $COMMAND == proxy-one-update ]]; then
		ce ce build update --name "$BUILD_NAME" --image "$IMAGE"
	else
		ce ce build create --name "$BUILD_NAME" --build-type local --image "$IMAGE" \
			--registry-secret "$REGISTRY_SECRET" --strategy dockerfile --dockerfile "$DOCKERFILE" --size "$BUILD_SIZE"
	fi
	ce ce buildrun submit --build "$BUILD_NAME" --source "$SOURCE_DIR" --wait
	IMAGE_BUILT=$IMAGE
}

step_proxy_one_update() {
	local args=(ce application update --name "$APP_NAME" --image "$IMAGE" --env-from-secret "$SECRET_NAME")
	[[ -n $APPID_SERVICE_INSTANCE ]] || args+=(--env "APPID_OAUTH_SERVER_URL=$APPID_OAUTH_SERVER_URL")
	[[ -z $APPID_REDIRECT_URI ]] || args+=(--env "APPID_REDIRECT_URI=$APPID_REDIRECT_URI")
	ce "${args[@]}"
}

# assertion_hint says why and how the upstream of proxy-two checks who sent a request.
assertion_hint() {
	note "$UPSTREAM_APP is reachable by every workload in project $CE_PROJECT, not only by the proxy: make it verify X-Appidgate-Assertion"
	note "  (Go: package github.com/appidgate/appidgate/proxy/assertion; Python: proxy/assertion/testdata/verify.py)"
	note "  with JWKS $1/.well-known/appidgate/jwks.json, issuer $1 and audience $2"
}

# step_proxy_two creates the user's app visible in the project only, reads its internal URL, and creates the
# public proxy in front of it. Under --dry-run the internal URL is unknown: the printed proxy create reads
# it with $(ibmcloud ce application get ...) when pasted into a shell.
step_proxy_two() {
	select_project
	check_image "$UPSTREAM_IMAGE" "your app's image (--upstream-image)" \
		"push it there first (ibmcloud cr login, then docker push), or name an existing image with --upstream-image"
	check_image "$IMAGE" "appidgate image (--image)" "$(image_hint)"
	ce ce application create --name "$UPSTREAM_APP" --image "$UPSTREAM_IMAGE" --registry-secret "$REGISTRY_SECRET" \
		--port "$UPSTREAM_PORT" --visibility project --min-scale "$MIN_SCALE" --max-scale "$MAX_SCALE" \
		--concurrency "$CONCURRENCY" --cpu "$CPU" --memory "$MEMORY"
	local args=(ce application create --name "$APP_NAME" --image "$IMAGE" --registry-secret "$REGISTRY_SECRET"
		--port "$APP_PORT" --min-scale "$MIN_SCALE" --max-scale "$MAX_SCALE" --concurrency "$CONCURRENCY"
		--cpu "$CPU" --memory "$MEMORY"
		--probe-live type=http --probe-live path=/healthz
		--probe-ready type=http --probe-ready path=/readyz
		--argument proxy)
	[[ -z $PROXY_PUBLIC ]] || args+=("--argument=--public=$PROXY_PUBLIC")
	args+=(--env-from-secret "$SECRET_NAME")
	trusted_profile_args args
	[[ -n $APPID_SERVICE_INSTANCE ]] || args+=(--env "APPID_OAUTH_SERVER_URL=$APPID_OAUTH_SERVER_URL")
	[[ -z $APPID_REDIRECT_URI ]] || args+=(--env "APPID_REDIRECT_URI=$APPID_REDIRECT_URI")
	[[ -n $APPID_REDIRECT_URI && -z $APPID_SERVICE_INSTANCE ]] || args+=(--no-wait)
	local upstream
	if ((DRY_RUN)); then
		show ibmcloud ce application get --name "$UPSTREAM_APP" --output url
		note "dry run: $UPSTREAM_APP's internal URL (http://$UPSTREAM_APP.<subdomain>.svc.cluster.local) is known only once it exists, so the proxy create printed last reads it with \$(ibmcloud ce application get ...)"
		printf '%s --env "APPIDGATE_UPSTREAM=$(%s)"\n' "$(show ibmcloud "${args[@]}")" \
			"$(show ibmcloud ce application get --name "$UPSTREAM_APP" --output url)"
		upstream="http://$UPSTREAM_APP.<subdomain>.svc.cluster.local"
	else
		app_url_wait "$UPSTREAM_APP" || exit 1
		upstream=$APP_URL
		APP_URL=""
		if [[ ! $upstream =~ ^http://[^/]+\.svc\.cluster\.local$ ]]; then
			note "warning: $UPSTREAM_APP's URL $upstream is not a project-internal one (http://$UPSTREAM_APP.<subdomain>.svc.cluster.local); is it --visibility project?"
		fi
		ce "${args[@]}" --env "APPIDGATE_UPSTREAM=$upstream"
	fi
	assertion_hint "<$APP_NAME-url>" "$upstream"
}

# roll_out makes a new revision of the app that reads the secret as it is now, and waits until it is ready:
# only then does every instance serving requests run with the secret's new values. $1 is the rotation's step.
roll_out() {
	if ! ce ce application update --name "$APP_NAME" --wait --wait-timeout 600; then
		echo "$PROG: rotate-session-key step $1 of 2: the new revision of $APP_NAME did not become ready; the secret $SECRET_NAME holds step $1's keys. See 'ibmcloud ce application get --name $APP_NAME', fix the cause, then run rotate-session-key again with the same keys" >&2
		exit 1
	fi
}

# step_rotate_session_key replaces SESSION_SECRET_KEY by NEW_SESSION_KEY in two steps, each rolled out to every
# instance before the next, so that no instance ever meets a session sealed with a key it does not have.
step_rotate_session_key() {
	if [[ -z $NEW_SESSION_KEY ]]; then
		if command -v openssl >/dev/null 2>&1; then
			NEW_SESSION_KEY=$(openssl rand -base64 32)
		else
			NEW_SESSION_KEY=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
		fi
		note "NEW_SESSION_KEY not set: generated a random 32-byte key (not shown; after the rotation it is SESSION_SECRET_KEY in the secret $SECRET_NAME)"
	fi
	select_project
	note "step 1 of 2: $APP_NAME still seals sessions with the current key and accepts the new one"
	ce ce secret update --name "$SECRET_NAME" --from-literal "SESSION_SECRET_KEY=$SESSION_SECRET_KEY" \
		--from-literal "APPIDGATE_SESSION_PREVIOUS_KEYS=$NEW_SESSION_KEY"
	roll_out 1
	note "step 2 of 2: every instance accepts the new key; now $APP_NAME seals with it and still accepts the old one"
	ce ce secret update --name "$SECRET_NAME" --from-literal "SESSION_SECRET_KEY=$NEW_SESSION_KEY" \
		--from-literal "APPIDGATE_SESSION_PREVIOUS_KEYS=$SESSION_SECRET_KEY"
	roll_out 2
	note "once rotated and the sessions sealed with the old key have ended (APPIDGATE_SESSION_MAX_AGE, 24h by default), drop it: 'ibmcloud ce secret update --name $SECRET_NAME --rm APPIDGATE_SESSION_PREVIOUS_KEYS' and 'ibmcloud ce application update --name $APP_NAME'"
}

# bind_hint says what an app created for a binding still needs.
bind_hint() {
	note "the app starts once App ID is bound to it: '$PROG bind --app $(quote "$APP_NAME") --service-instance $(quote "$APPID_SERVICE_INSTANCE")'"
}

# next_steps_without_redirect says how an app created without APPID_REDIRECT_URI gets one.
next_steps_without_redirect() {
	note "APPID_REDIRECT_URI not set: the app cannot start until it has one (its log names the missing variable)."
	note "next: '$PROG url --app $(quote "$APP_NAME")', register URL/afterauth and URL/noauth_route as redirect URIs in App ID, then '$PROG app-update --app $(quote "$APP_NAME") --redirect-uri URL/afterauth'"
}

step_cleanup() {
	select_project
	ce_tolerant ce application delete --name "$APP_NAME" --force
	ce_tolerant ce build delete --name "$BUILD_NAME" --force
	ce_tolerant ce secret delete --name "$SECRET_NAME" --force
	ce_tolerant ce registry delete --name "$REGISTRY_SECRET" --force
	ce_tolerant ce project delete --name "$CE_PROJECT" --hard --force
	note "not deleted (created outside this script): the registry namespace (ibmcloud cr namespace-rm ${ICR_NAMESPACE:-NAMESPACE}) and the App ID instance (ibmcloud resource service-instance-delete NAME)"
}

case "$COMMAND" in
project)
	require CE_PROJECT
	step_project
	;;
registry)
	require CE_PROJECT REGISTRY_SECRET REGISTRY IBM_CLOUD_APIKEY
	step_registry
	;;
secret)
	require CE_PROJECT SECRET_NAME $APPID_SECRET_VARS
	step_secret
	;;
build)
	require CE_PROJECT BUILD_NAME SOURCE_REPO SOURCE_COMMIT IMAGE REGISTRY_SECRET
	step_build
	;;
buildrun)
	require CE_PROJECT BUILD_NAME
	step_buildrun
	;;
app-create)
	require CE_PROJECT APP_NAME IMAGE REGISTRY_SECRET SECRET_NAME $APPID_URL_VAR \
		MIN_SCALE MAX_SCALE CONCURRENCY CPU MEMORY
	step_app_create
	if [[ -z $APPID_REDIRECT_URI ]]; then
		note "APPID_REDIRECT_URI not set: the app cannot start until it has one (its log names the missing variable)."
		note "next: '$PROG url', register URL/afterauth and URL/noauth_route as redirect URIs in App ID, then '$PROG app-update --redirect-uri URL/afterauth'"
	fi
	[[ -z $APPID_SERVICE_INSTANCE ]] || bind_hint
	;;
app-update)
	require CE_PROJECT APP_NAME SECRET_NAME $APPID_URL_VAR APPID_REDIRECT_URI
	step_app_update
	;;
bind)
	require CE_PROJECT APP_NAME APPID_SERVICE_INSTANCE
	step_bind
	;;
url)
	require CE_PROJECT APP_NAME URL_WAIT_SECONDS
	step_url
	register_hint "$APP_URL"
	;;
redeploy)
	require CE_PROJECT BUILD_NAME APP_NAME IMAGE
	step_redeploy
	;;
rotate-session-key)
	vars=(CE_PROJECT APP_NAME SECRET_NAME SESSION_SECRET_KEY)
	[[ -z $NEW_SESSION_KEY ]] || vars+=(NEW_SESSION_KEY)
	require "${vars[@]}"
	step_rotate_session_key
	;;
cleanup)
	require CE_PROJECT APP_NAME BUILD_NAME SECRET_NAME REGISTRY_SECRET
	step_cleanup
	;;
all)
	require CE_PROJECT REGISTRY REGISTRY_SECRET IBM_CLOUD_APIKEY SECRET_NAME $APPID_SECRET_VARS \
		BUILD_NAME SOURCE_REPO SOURCE_COMMIT IMAGE APP_NAME $APPID_URL_VAR \
		MIN_SCALE MAX_SCALE CONCURRENCY CPU MEMORY URL_WAIT_SECONDS
	step_project
	step_registry
	step_secret
	step_build
	step_buildrun
	# A first deployment cannot know the URL (it holds Code Engine's generated project subdomain):
	# create without the redirect URI, read the URL, then set APPID_REDIRECT_URI=URL/afterauth.
	redirect_given=${APPID_REDIRECT_URI:+1}
	# Bound to App ID, the app cannot start before bind: bind comes last, once it has its redirect URI.
	[[ -z $APPID_SERVICE_INSTANCE ]] || BIND_PENDING=1
	step_app_create
	step_url
	[[ -n $redirect_given ]] || step_redirect_from_url
	if ((BIND_PENDING)); then
		BIND_PENDING=0
		step_bind
	fi
	register_hint "$APP_URL"
	;;
proxy-one)
	require CE_PROJECT APP_NAME BUILD_NAME IMAGE REGISTRY_SECRET SOURCE_DIR DOCKERFILE SECRET_NAME \
		$APPID_URL_VAR MIN_SCALE MAX_SCALE CONCURRENCY CPU MEMORY
	step_proxy_build
	step_app_create
	[[ -n $APPID_REDIRECT_URI ]] || next_steps_without_redirect
	[[ -z $APPID_SERVICE_INSTANCE ]] || bind_hint
	;;
proxy-one-update)
	require CE_PROJECT APP_NAME BUILD_NAME IMAGE SOURCE_DIR SECRET_NAME $APPID_URL_VAR
	step_proxy_build
	step_proxy_one_update
	;;
proxy-two)
	require CE_PROJECT UPSTREAM_APP UPSTREAM_IMAGE UPSTREAM_PORT APP_NAME IMAGE REGISTRY_SECRET SECRET_NAME \
		$APPID_URL_VAR MIN_SCALE MAX_SCALE CONCURRENCY CPU MEMORY URL_WAIT_SECONDS
	step_proxy_two
	[[ -n $APPID_REDIRECT_URI ]] || next_steps_without_redirect
	[[ -z $APPID_SERVICE_INSTANCE ]] || bind_hint
	;;
*) die_usage "unknown command '$COMMAND'" ;;
esac
