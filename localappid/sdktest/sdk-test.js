// IBM's App ID Node.js SDK (ibmcloud-appid 7.x, with passport 0.6 and express 4), unchanged, against localappid.
// Run by localappid/sdk_test.go, which starts the provider and passes its URLs and credentials in the
// environment. Each SDK call tested prints one line "RESULT {"call": ..., "ok": ..., "detail": ...}"; the Go
// test fails on any call that is not ok, and on any call it expected that never reported.
"use strict";

const express = require("express");
const session = require("express-session");
const passport = require("passport");
const {
	WebAppStrategy, APIStrategy, TokenManager, UserProfileManager, SelfServiceManager,
	UnauthorizedException,
} = require("ibmcloud-appid"); // UserProfileManager is an instance

const env = (name) => {
	const v = process.env[name];
	if (!v) {
		throw new Error("sdk-test: " + name + " is not set");
	}
	return v;
};
const OAUTH = env("APPID_OAUTH_SERVER_URL");
const PROFILES = env("APPID_PROFILES_URL");
const MANAGEMENT = env("APPID_MANAGEMENT_URL");
const IAM = env("IAM_TOKEN_URL");
const CLIENT_ID = env("APPID_CLIENT_ID");
const SECRET = env("APPID_CLIENT_SECRET");
const API_KEY = env("IBM_CLOUD_APIKEY");
const TENANT = env("APPID_TENANT_ID");
const OUTBOX = env("LOCALAPPID_OUTBOX_URL");
const ASSERTION = env("CUSTOM_IDENTITY_ASSERTION");

function report(call, ok, detail) {
	console.log("RESULT " + JSON.stringify({call, ok: !!ok, detail: detail === undefined ? "" : String(detail)}));
}

// check runs one tested call: fn returns a detail string when all went as expected, and throws otherwise.
async function check(call, fn) {
	try {
		report(call, true, await fn());
	} catch (e) {
		report(call, false, e && (e.stack || e.message || JSON.stringify(e)));
	}
}

function expect(cond, what) {
	if (!cond) {
		throw new Error("expected " + what);
	}
}

// Browser is a cookie-keeping HTTP client that follows no redirects by itself, as tests need to see each step.
// Cookies are kept by name with their path; hosts are all loopback here (cookies ignore ports).
class Browser {
	constructor() {
		this.cookies = new Map();
	}

	async request(url, options = {}) {
		const u = new URL(url);
		const cookie = [...this.cookies.values()].filter((c) => u.pathname.startsWith(c.path)).map((c) => c.name + "=" + c.value).join("; ");
		const headers = Object.assign({"accept-language": "en"}, options.headers || {});
		if (cookie) {
			headers.cookie = cookie;
		}
		const res = await fetch(url, Object.assign({}, options, {headers, redirect: "manual"}));
		for (const line of res.headers.getSetCookie()) {
			const [pair, ...attrs] = line.split(";");
			const eq = pair.indexOf("=");
			const name = pair.slice(0, eq).trim();
			const value = pair.slice(eq + 1).trim();
			let path = "/";
			let expired = false;
			for (const a of attrs) {
				const [k, v] = a.split("=").map((s) => s && s.trim());
				if (k.toLowerCase() === "path") {
					path = v;
				}
				if (k.toLowerCase() === "max-age" && Number(v) <= 0) {
					expired = true;
				}
			}
			if (expired || value === "") {
				this.cookies.delete(name + path);
			} else {
				this.cookies.set(name + path, {name, value, path});
			}
		}
		const body = await res.text();
		return {status: res.status, location: res.headers.get("location") ? new URL(res.headers.get("location"), url).href : "", body, url};
	}

	get(url) {
		return this.request(url);
	}

	// follow GETs url and its redirects until stop(url) is true or a page answers; it returns the last response.
	async follow(url, stop = () => false) {
		let res = await this.get(url);
		for (let i = 0; i < 10 && res.location && !stop(res.location); i++) {
			res = await this.get(res.location);
		}
		return res;
	}

	// submit posts a page's form: its action and hidden fields, with values added.
	async submit(page, values) {
		const action = /<form method="post" action="([^"]+)"/.exec(page.body);
		expect(action, "a form on " + page.url + ": " + page.body.slice(0, 300));
		const form = new URLSearchParams();
		for (const m of page.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
			form.set(m[1], unescapeHTML(m[2]));
		}
		for (const [k, v] of Object.entries(values)) {
			form.set(k, v);
		}
		return this.request(new URL(unescapeHTML(action[1]), page.url).href, {
			method: "POST", body: form.toString(), headers: {"content-type": "application/x-www-form-urlencoded"},
		});
	}
}

function unescapeHTML(s) {
	return s.replace(/&#43;/g, "+").replace(/&#34;/g, "\"").replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

async function json(res) {
	expect(res.status === 200, "200 from " + res.url + ", got " + res.status + " " + res.body.slice(0, 300));
	return JSON.parse(res.body);
}

// lastEmail reads the newest outbox email to an address of one template.
async function lastEmail(to, template) {
	const res = await fetch(OUTBOX + "?" + new URLSearchParams({to, template}));
	const mails = await res.json();
	expect(mails.length > 0, "a " + template + " email to " + to);
	return mails[mails.length - 1];
}

function decode(token) {
	return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}

// startApp serves a small express app with WebAppStrategy and APIStrategy on a free loopback port.
function startApp() {
	return new Promise((resolve) => {
		const app = express();
		const server = app.listen(0, "127.0.0.1", () => {
			const base = "http://127.0.0.1:" + server.address().port;
			const webAppStrategy = new WebAppStrategy({
				tenantId: TENANT, clientId: CLIENT_ID, secret: SECRET, oauthServerUrl: OAUTH, redirectUri: base + "/afterauth",
			});
			app.use(session({secret: "sdk-test", resave: false, saveUninitialized: true}));
			app.use(express.urlencoded({extended: false}));
			app.use(passport.initialize());
			app.use(passport.session());
			passport.use(webAppStrategy);
			passport.use(new APIStrategy({oauthServerUrl: OAUTH}));
			passport.serializeUser((user, cb) => cb(null, user));
			passport.deserializeUser((obj, cb) => cb(null, obj));
			const NAME = WebAppStrategy.STRATEGY_NAME;
			// passport 0.6 starts a new session at login and, without keepSessionInfo, drops what the SDK stored in
			// the old one (its tokens, the return address): apps on passport 0.6 pass it, as IBM's samples do.
			const keep = (options = {}) => Object.assign({keepSessionInfo: true}, options);
			const context = (req) => req.session[WebAppStrategy.AUTH_CONTEXT] || {};
			const me = (req, res) => {
				const c = context(req);
				res.json({
					user: req.user, accessToken: c.accessToken, identityToken: c.identityToken, refreshToken: c.refreshToken,
					hasView: WebAppStrategy.hasScope(req, "view"), hasAdmin: WebAppStrategy.hasScope(req, "admin"),
				});
			};
			app.get("/afterauth", passport.authenticate(NAME, keep()));
			app.get("/protected", passport.authenticate(NAME, keep()), me);
			app.get("/me", me);
			app.get("/login-again", passport.authenticate(NAME, keep({forceLogin: true, successRedirect: "/me"})));
			app.get("/anon", passport.authenticate(NAME, keep({allowAnonymousLogin: true, allowCreateNewAnonymousUser: true, successRedirect: "/me"})));
			app.post("/rop", passport.authenticate(NAME, keep()), me);
			app.get("/signup", passport.authenticate(NAME, keep({show: WebAppStrategy.SIGN_UP})));
			app.get("/forgot", passport.authenticate(NAME, keep({show: WebAppStrategy.FORGOT_PASSWORD})));
			app.get("/changepw", passport.authenticate(NAME, keep({show: WebAppStrategy.CHANGE_PASSWORD})));
			app.get("/changedetails", passport.authenticate(NAME, keep({show: WebAppStrategy.CHANGE_DETAILS})));
			app.get("/refresh", (req, res) => {
				webAppStrategy.refreshTokens(req, context(req).refreshToken).then(() => me(req, res), (e) => res.status(500).json({error: e.message}));
			});
			app.get("/logout", (req, res) => {
				// passport 0.6 made req.logout's callback mandatory; the SDK (written for 0.4) calls it without one.
				const logout = req.logout.bind(req);
				req.logout = (options, done) => logout(options || {}, done || (() => {}));
				webAppStrategy.logout(req);
				res.json({loggedOut: true, user: req.user || null});
			});
			app.get("/api/data", passport.authenticate(APIStrategy.STRATEGY_NAME, {session: false, scope: "appid_readuserattr"}),
				(req, res) => res.json({sub: req.appIdAuthorizationContext.accessTokenPayload.sub}));
			app.get("/api/admin", passport.authenticate(APIStrategy.STRATEGY_NAME, {session: false, scope: CLIENT_ID + "/admin"}),
				(req, res) => res.json({ok: true}));
			resolve({server, base});
		});
	});
}

// signIn fills localappid's sign-in form on the page, following the redirects back to the app.
async function signIn(browser, page, username, password) {
	expect(page.status === 200 && page.body.includes('name="password"'), "the sign-in form, got " + page.status + " " + page.body.slice(0, 300));
	let res = await browser.submit(page, {username, password});
	for (let i = 0; i < 10 && res.location; i++) {
		res = await browser.get(res.location);
	}
	return res;
}

async function main() {
	const {server, base} = await startApp();
	const browser = new Browser();
	let alice;

	await check("WebAppStrategy login (default options, multipart code exchange)", async () => {
		const page = await browser.follow(base + "/protected");
		const res = await signIn(browser, page, "alice", "alice");
		alice = await json(res);
		expect(alice.user && alice.user.sub && alice.identityToken && alice.refreshToken, "a user with id and refresh tokens: " + res.body);
		expect(decode(alice.accessToken).scope.includes("appid_default"), "appid_default in the scope");
		return "sub " + alice.user.sub;
	});
	await check("WebAppStrategy.hasScope", async () => {
		expect(alice.hasView === true && alice.hasAdmin === false, "view true and admin false for alice, got " + alice.hasView + "/" + alice.hasAdmin);
		return "view true, admin false";
	});
	await check("WebAppStrategy.refreshTokens", async () => {
		const res = await json(await browser.get(base + "/refresh"));
		expect(res.refreshToken && res.refreshToken !== alice.refreshToken, "a rotated refresh token");
		expect(res.user && res.user.sub === alice.user.sub && decode(res.accessToken).sub === alice.user.sub, "alice's tokens again");
		alice = res;
		return "rotated";
	});

	const profiles = UserProfileManager;
	profiles.init({oauthServerUrl: OAUTH, profilesUrl: PROFILES, throwIfFail: true});
	await check("UserProfileManager.getUserInfo", async () => {
		const info = await profiles.getUserInfo(alice.accessToken, alice.identityToken);
		expect(info.sub === alice.user.sub && info.email === "alice@example.com", "alice's userinfo, got " + JSON.stringify(info));
		return info.email;
	});
	await check("UserProfileManager.setAttribute", async () => {
		const v = await profiles.setAttribute(alice.accessToken, "colour", "green");
		expect(v === "green", "the stored value back, got " + JSON.stringify(v));
		return JSON.stringify(v);
	});
	await check("UserProfileManager.getAttribute", async () => {
		const v = await profiles.getAttribute(alice.accessToken, "colour");
		expect(v === "green", "green, got " + JSON.stringify(v));
		return JSON.stringify(v);
	});
	await check("UserProfileManager.getAllAttributes", async () => {
		const all = await profiles.getAllAttributes(alice.accessToken);
		expect(all.colour === "green", "colour green among " + JSON.stringify(all));
		return JSON.stringify(all);
	});
	await check("UserProfileManager.deleteAttribute", async () => {
		await profiles.deleteAttribute(alice.accessToken, "colour");
		let missing = false;
		await profiles.getAttribute(alice.accessToken, "colour").catch((e) => {
			missing = e.message === "Not found";
		});
		expect(missing, "Not found after the delete");
		return "then Not found";
	});
	await check("UserProfileManager with a bad token (UnauthorizedException)", async () => {
		let err;
		await profiles.getAllAttributes("not-a-token").catch((e) => {
			err = e;
		});
		expect(err instanceof UnauthorizedException, "an UnauthorizedException, got " + err);
		return "UnauthorizedException";
	});

	const tokens = new TokenManager({clientId: CLIENT_ID, secret: SECRET, oauthServerUrl: OAUTH});
	let appToken;
	await check("TokenManager.getApplicationIdentityToken (JSON body)", async () => {
		const t = await tokens.getApplicationIdentityToken();
		expect(t.accessToken && t.tokenType === "Bearer", "an application token");
		appToken = t.accessToken;
		return "sub " + decode(t.accessToken).sub;
	});
	await check("TokenManager.getCustomIdentityTokens", async () => {
		const t = await tokens.getCustomIdentityTokens(ASSERTION, ["appid_readuserattr"]);
		const id = decode(t.identityToken);
		expect(id.amr[0] === "appid_custom" && id.identities[0].id === "sdk-custom-user", "a custom identity, got " + JSON.stringify(id));
		return "amr appid_custom, identity " + id.identities[0].id;
	});
	await check("TokenManager.getCustomIdentityTokens refuses a bad assertion", async () => {
		let msg = "";
		await tokens.getCustomIdentityTokens("e30.e30.e30").catch((e) => {
			msg = e.message;
		});
		expect(msg === "Failed to obtain tokens", "Failed to obtain tokens, got " + msg);
		return msg;
	});

	await check("APIStrategy", async () => {
		const call = (path, token) => fetch(base + path, {headers: token ? {authorization: "Bearer " + token} : {}});
		const ok = await call("/api/data", alice.accessToken);
		expect(ok.status === 200, "200 for alice's token, got " + ok.status);
		const none = await call("/api/data");
		expect(none.status === 401, "401 without a token, got " + none.status);
		const bad = await call("/api/data", "x.y.z");
		expect(bad.status === 401, "401 for a bad token, got " + bad.status);
		const scope = await call("/api/admin", alice.accessToken);
		expect(scope.status === 401 && /insufficient_scope/.test(scope.headers.get("www-authenticate")), "401 insufficient_scope for alice on admin, got " + scope.status);
		const app = await call("/api/data", appToken);
		expect(app.status === 401, "401 for an application token lacking appid_readuserattr, got " + app.status);
		return "admits, 401s, insufficient_scope";
	});

	await check("WebAppStrategy.logout", async () => {
		const res = await json(await browser.get(base + "/logout"));
		expect(res.loggedOut && res.user === null, "no user after logout");
		return "signed out";
	});

	const anonBrowser = new Browser();
	let anon;
	await check("WebAppStrategy anonymous login (allowAnonymousLogin)", async () => {
		const res = await anonBrowser.follow(base + "/anon");
		anon = await json(res);
		expect(decode(anon.accessToken).amr[0] === "appid_anon", "amr appid_anon, got " + JSON.stringify(decode(anon.accessToken).amr));
		await profiles.setAttribute(anon.accessToken, "cart", "apples");
		return "anonymous sub " + anon.user.sub;
	});
	await check("WebAppStrategy anonymous upgrade (progressive authentication)", async () => {
		const page = await anonBrowser.follow(base + "/login-again");
		const res = await signIn(anonBrowser, page, "carol", "carol");
		const carol = await json(res);
		expect(decode(carol.accessToken).amr[0] === "cloud_directory", "a Cloud Directory login");
		const all = await profiles.getAllAttributes(carol.accessToken);
		expect(all.cart === "apples", "the anonymous user's attribute on carol, got " + JSON.stringify(all));
		return "attributes moved: " + JSON.stringify(all);
	});
	await check("WebAppStrategy resource owner password login (POST username/password)", async () => {
		const b = new Browser();
		const res = await json(await b.request(base + "/rop", {method: "POST", body: "username=bob&password=bob", headers: {"content-type": "application/x-www-form-urlencoded"}}));
		expect(res.user && res.user.email === "bob@example.com", "bob signed in, got " + JSON.stringify(res.user));
		return res.user.email;
	});

	const selfService = new SelfServiceManager({iamApiKey: API_KEY, managementUrl: MANAGEMENT, iamTokenUrl: IAM});
	const email = "sdk-user@example.com";
	let uuid;
	await check("SelfServiceManager.signUp", async () => {
		const u = await selfService.signUp({emails: [{value: email, primary: true}], password: "first-pw", displayName: "SDK User"}, "en");
		expect(u.id && u.status === "PENDING", "a pending user, got " + JSON.stringify(u));
		uuid = u.id;
		return "uuid " + uuid;
	});
	await check("SelfServiceManager.resendNotification", async () => {
		await selfService.resendNotification(uuid, "USER_VERIFICATION", "en");
		return "sent";
	});
	await check("SelfServiceManager.getSignUpConfirmationResult", async () => {
		const mail = await lastEmail(email, "USER_VERIFICATION");
		await fetch(mail.links[0], {redirect: "manual"});
		const r = await selfService.getSignUpConfirmationResult(new URL(mail.links[0]).searchParams.get("context"));
		expect(r.success === true && r.uuid === uuid, "success for the user, got " + JSON.stringify(r));
		return JSON.stringify(r);
	});
	await check("SelfServiceManager.forgotPassword", async () => {
		const u = await selfService.forgotPassword(email, "en");
		expect(u.id === uuid, "the user back");
		return "reset email sent";
	});
	await check("SelfServiceManager.getForgotPasswordConfirmationResult", async () => {
		const mail = await lastEmail(email, "RESET_PASSWORD");
		await fetch(mail.links[0]);
		const r = await selfService.getForgotPasswordConfirmationResult(new URL(mail.links[0]).searchParams.get("context"));
		expect(r.success === true && r.uuid === uuid, "success, got " + JSON.stringify(r));
		return JSON.stringify(r);
	});
	await check("SelfServiceManager.setUserNewPassword", async () => {
		await selfService.setUserNewPassword(uuid, "second-pw", "en", "127.0.0.1");
		const b = new Browser();
		const res = await json(await b.request(base + "/rop", {method: "POST", body: new URLSearchParams({username: email, password: "second-pw"}).toString(), headers: {"content-type": "application/x-www-form-urlencoded"}}));
		expect(res.user.email === email, "sign-in with the new password");
		return "the new password signs in";
	});
	await check("SelfServiceManager.getUserDetails", async () => {
		const u = await selfService.getUserDetails(uuid);
		expect(u.emails[0].value === email, "the user's email, got " + JSON.stringify(u));
		return JSON.stringify(u.emails);
	});
	await check("SelfServiceManager.updateUserDetails", async () => {
		const u = await selfService.updateUserDetails(uuid, {emails: [{value: email, primary: true}], displayName: "SDK User Renamed"});
		expect(u.displayName === "SDK User Renamed", "the new name, got " + JSON.stringify(u));
		return u.displayName;
	});
	await check("SelfServiceManager errors (unknown user)", async () => {
		let status = 0;
		await selfService.getUserDetails("no-such-user").catch((e) => {
			status = e.statusCode;
		});
		expect(status === 404, "404, got " + status);
		return "404";
	});

	const cd = new Browser();
	await check("WebAppStrategy sign-up redirect (show: SIGN_UP)", async () => {
		const page = await cd.follow(base + "/signup");
		let res = await cd.submit(page, {email: "web-signup@example.com", name: "Web Signup", password: "web-pw"});
		expect(res.status === 200 && res.body.includes("Check your email"), "the check-your-email page, got " + res.status);
		const mail = await lastEmail("web-signup@example.com", "USER_VERIFICATION");
		res = await cd.get(mail.links[0]);
		expect(res.location.startsWith(base + "/afterauth?flow=sign_up"), "back to the app with flow=sign_up, got " + res.location);
		res = await cd.get(res.location);
		expect(res.status === 302, "the SDK's redirect after the sign-up flow, got " + res.status);
		return "confirmed, SDK redirected to " + res.location;
	});
	await check("WebAppStrategy forgot password redirect (show: FORGOT_PASSWORD)", async () => {
		const page = await cd.follow(base + "/forgot");
		let res = await cd.submit(page, {email: "web-signup@example.com"});
		expect(res.body.includes("Check your email"), "the check-your-email page");
		const mail = await lastEmail("web-signup@example.com", "RESET_PASSWORD");
		res = await cd.submit(await cd.get(mail.links[0]), {new_password: "web-pw2"});
		expect(res.location.startsWith(base + "/afterauth?flow=forgot_password"), "back with flow=forgot_password, got " + res.location);
		res = await cd.get(res.location);
		expect(res.status === 302, "the SDK's redirect after the flow, got " + res.status);
		return "reset, SDK redirected to " + res.location;
	});
	await check("WebAppStrategy change password redirect (show: CHANGE_PASSWORD)", async () => {
		const signedIn = await signIn(cd, await cd.follow(base + "/protected"), "web-signup@example.com", "web-pw2");
		await json(signedIn);
		const page = await cd.follow(base + "/changepw");
		let res = await cd.submit(page, {current_password: "web-pw2", new_password: "web-pw3"});
		for (let i = 0; i < 10 && res.location; i++) {
			res = await cd.get(res.location);
		}
		const after = await json(await cd.get(base + "/me"));
		expect(after.user && after.user.email === "web-signup@example.com", "still signed in after the change");
		const b = new Browser();
		await json(await b.request(base + "/rop", {method: "POST", body: new URLSearchParams({username: "web-signup@example.com", password: "web-pw3"}).toString(), headers: {"content-type": "application/x-www-form-urlencoded"}}));
		return "changed; new password signs in";
	});
	await check("WebAppStrategy change details redirect (show: CHANGE_DETAILS, generate_code)", async () => {
		const page = await cd.follow(base + "/changedetails");
		let res = await cd.submit(page, {name: "Web Renamed", email: "web-signup@example.com"});
		for (let i = 0; i < 10 && res.location; i++) {
			res = await cd.get(res.location);
		}
		const after = await json(await cd.get(base + "/me"));
		expect(after.user.name === "Web Renamed", "the new name in the id token, got " + JSON.stringify(after.user));
		return after.user.name;
	});

	server.close();
	server.closeAllConnections();
}

main().then(() => process.exit(0), (e) => {
	console.error(e);
	process.exit(1);
});
