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
  app-create   create the application with probes, scaling and the secret, so its first revision starts
  app-update   set the secret (--env-from-secret), APPID_OAUTH_SERVER_URL and APPID_REDIRECT_URI on the app
  url          print the application URL (register URL/afterauth as redirect URI in App ID)
  redeploy     after a source change: point the build at IMAGE, run it, update the app to IMAGE
  cleanup      delete the app, build, secrets and project (--hard)
  all          project, registry, secret, build, buildrun, app-create, url

options:
  --dry-run    print the exact ibmcloud commands (secret values shown as ***) and run nothing
  -h, --help   show this help

values: each one from its flag or its environment variable (the flag wins); defaults in brackets.
  --project NAME            CE_PROJECT              Code Engine project [appidgate-proj]
  --region REGION           REGION                  ibmcloud target -r before the project step []
  --resource-group GROUP    RESOURCE_GROUP          ibmcloud target -g before the project step []
  --registry HOST           REGISTRY                Container Registry host [us.icr.io]
  --icr-namespace NS        ICR_NAMESPACE           Container Registry namespace (ibmcloud cr namespace-add)
  --image-name NAME         IMAGE_NAME              image repository name [appidgate-img]
  --image-tag TAG           IMAGE_TAG               image tag [latest]
  --image REF               IMAGE                   full image reference [REGISTRY/ICR_NAMESPACE/IMAGE_NAME:IMAGE_TAG]
  --registry-secret NAME    REGISTRY_SECRET         registry secret name [appidgate-icr-cred]
  --build-name NAME         BUILD_NAME              build configuration name [appidgate-bld]
  --source URL              SOURCE_REPO             Git repository to build [https://github.com/appidgate/appidgate.git]
  --commit REF              SOURCE_COMMIT           branch, tag or commit [main]
  --build-size SIZE         BUILD_SIZE              build size [small]
  --app NAME                APP_NAME                application name [appidgate-app]
  --secret-name NAME        SECRET_NAME             app secret name [appidgate-app-secret]
  --min-scale N             MIN_SCALE               minimum instances; 0 scales to zero when idle [0]
  --max-scale N             MAX_SCALE               maximum instances [10]
  --concurrency N           CONCURRENCY             requests per instance before scaling out [100]
  --cpu N                   CPU                     vCPU per instance [0.25]
  --memory SIZE             MEMORY                  memory per instance [0.5G]
  --apikey KEY              IBM_CLOUD_APIKEY        IBM Cloud API key (registry password, roles lookup)
  --client-id ID            APPID_CLIENT_ID         App ID application clientId
  --client-secret SECRET    APPID_CLIENT_SECRET     App ID application secret
  --session-key KEY         SESSION_SECRET_KEY      session encryption key, >= 16 bytes [generated when unset]
  --oauth-server-url URL    APPID_OAUTH_SERVER_URL  App ID oAuthServerUrl
  --redirect-uri URL        APPID_REDIRECT_URI      https://APP-URL/afterauth, as registered in App ID

Prefer environment variables over flags for secrets: flags end up in shell history.
A missing value stops the command before anything runs, naming every missing value (exit status 2).
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
	--oauth-server-url) echo APPID_OAUTH_SERVER_URL ;;
	--redirect-uri) echo APPID_REDIRECT_URI ;;
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
	APPID_OAUTH_SERVER_URL) echo --oauth-server-url ;;
	APPID_REDIRECT_URI) echo --redirect-uri ;;
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

: "${CE_PROJECT:=appidgate-proj}"
: "${REGION:=}"
: "${RESOURCE_GROUP:=}"
: "${REGISTRY:=us.icr.io}"
: "${ICR_NAMESPACE:=}"
: "${IMAGE_NAME:=appidgate-img}"
: "${IMAGE_TAG:=latest}"
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
: "${APPID_OAUTH_SERVER_URL:=}"
: "${APPID_REDIRECT_URI:=}"
if [[ -z ${IMAGE:-} && -n $ICR_NAMESPACE ]]; then
	IMAGE="$REGISTRY/$ICR_NAMESPACE/$IMAGE_NAME:$IMAGE_TAG"
fi
: "${IMAGE:=}"

# The port the image listens on (Dockerfile: ENV PORT=8080, EXPOSE 8080).
readonly APP_PORT=8080

# require stops with exit status 2 unless every named variable is set, naming all missing ones at once.
require() {
	local missing=() v
	for v in "$@"; do
		if [[ -z ${!v} ]]; then
			if [[ $v == IMAGE ]]; then
				missing+=("ICR_NAMESPACE (--icr-namespace) or IMAGE (--image)")
			else
				missing+=("$v ($(flag_of "$v"))")
			fi
		fi
	done
	if ((${#missing[@]} > 0)); then
		echo "$PROG: cannot run '$COMMAND': missing values:" >&2
		printf '  %s\n' "${missing[@]}" >&2
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
	for s in "$IBM_CLOUD_APIKEY" "$APPID_CLIENT_ID" "$APPID_CLIENT_SECRET" "$SESSION_SECRET_KEY"; do
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
	ce ce secret create --name "$SECRET_NAME" \
		--from-literal "APPID_CLIENT_ID=$APPID_CLIENT_ID" \
		--from-literal "APPID_CLIENT_SECRET=$APPID_CLIENT_SECRET" \
		--from-literal "SESSION_SECRET_KEY=$SESSION_SECRET_KEY" \
		--from-literal "IBM_CLOUD_APIKEY=$IBM_CLOUD_APIKEY"
}

step_build() {
	select_project
	ce ce build create --name "$BUILD_NAME" --source "$SOURCE_REPO" --commit "$SOURCE_COMMIT" \
		--image "$IMAGE" --registry-secret "$REGISTRY_SECRET" --strategy dockerfile --size "$BUILD_SIZE"
}

step_buildrun() {
	select_project
	ce ce buildrun submit --build "$BUILD_NAME" --wait
}

step_app_create() {
	select_project
	ce ce application create --name "$APP_NAME" --image "$IMAGE" --registry-secret "$REGISTRY_SECRET" \
		--port "$APP_PORT" --min-scale "$MIN_SCALE" --max-scale "$MAX_SCALE" --concurrency "$CONCURRENCY" \
		--cpu "$CPU" --memory "$MEMORY" \
		--probe-live type=http --probe-live path=/healthz \
		--probe-ready type=http --probe-ready path=/readyz \
		--env-from-secret "$SECRET_NAME" \
		--env "APPID_OAUTH_SERVER_URL=$APPID_OAUTH_SERVER_URL" \
		--env "APPID_REDIRECT_URI=$APPID_REDIRECT_URI"
}

step_app_update() {
	select_project
	ce ce application update --name "$APP_NAME" --env-from-secret "$SECRET_NAME" \
		--env "APPID_OAUTH_SERVER_URL=$APPID_OAUTH_SERVER_URL" \
		--env "APPID_REDIRECT_URI=$APPID_REDIRECT_URI"
}

step_url() {
	select_project
	ce ce application get --name "$APP_NAME" --output url
}

step_redeploy() {
	select_project
	ce ce build update --name "$BUILD_NAME" --image "$IMAGE"
	ce ce buildrun submit --build "$BUILD_NAME" --wait
	ce ce application update --name "$APP_NAME" --image "$IMAGE"
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
	require CE_PROJECT SECRET_NAME APPID_CLIENT_ID APPID_CLIENT_SECRET IBM_CLOUD_APIKEY
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
	require CE_PROJECT APP_NAME IMAGE REGISTRY_SECRET SECRET_NAME APPID_OAUTH_SERVER_URL APPID_REDIRECT_URI
	step_app_create
	;;
app-update)
	require CE_PROJECT APP_NAME SECRET_NAME APPID_OAUTH_SERVER_URL APPID_REDIRECT_URI
	step_app_update
	;;
url)
	require CE_PROJECT APP_NAME
	step_url
	;;
redeploy)
	require CE_PROJECT BUILD_NAME APP_NAME IMAGE
	step_redeploy
	;;
cleanup)
	require CE_PROJECT APP_NAME BUILD_NAME SECRET_NAME REGISTRY_SECRET
	step_cleanup
	;;
all)
	require CE_PROJECT REGISTRY REGISTRY_SECRET IBM_CLOUD_APIKEY SECRET_NAME APPID_CLIENT_ID APPID_CLIENT_SECRET \
		BUILD_NAME SOURCE_REPO SOURCE_COMMIT IMAGE APP_NAME APPID_OAUTH_SERVER_URL APPID_REDIRECT_URI
	step_project
	step_registry
	step_secret
	step_build
	step_buildrun
	step_app_create
	step_url
	note "register the application URL followed by /afterauth as a redirect URI in App ID if not done yet"
	;;
*) die_usage "unknown command '$COMMAND'" ;;
esac
