// Package deploy holds the IBM Cloud Code Engine deployment script (codeengine.sh) and Knative manifest
// (service.yaml); it has no Go API. Its tests check what a production rollout relies on:
//   - the script's commands, dry runs and refusals, against a stand-in ibmcloud CLI;
//   - the image (image_test.go): built from the repository's Dockerfile with podman, its size, user, start-up
//     error, a read-only container under 256 MB, and docs/code-engine.md's one-container recipe with Flask;
//   - replicas (replicas_test.go): three `appidgate proxy` processes behind nginx round robin, as Code Engine runs
//     instances behind its load balancer, with sessions in redis-server and in cookies, under a bounded load: a
//     refresh storm, a rolling restart, the two-step session key rotation (and a one-step one as a control that
//     must log users out), logout and back-channel logout on every replica, Redis paused and restarted from its
//     append-only file. It needs nginx and redis-server (skipped without them, failed on CI); about 15 s.
//
// `go test -short` skips the script runs, the image and the replicas.
package deploy
