// Package deploy holds the IBM Cloud Code Engine deployment script (codeengine.sh) and Knative manifest
// (service.yaml); its tests check both. It has no Go API.
package deploy
