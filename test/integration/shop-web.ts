/**
 * A namespace `shop` with a Deployment `web` of 2 pods that serve HTTP (`broadside.dev/serve=http`) under
 * memory and CPU limits, and its Service: the fleet of the tests that need pod bodies (pod-bodies.test.ts,
 * container-kill.test.ts).
 */
export const shopWebManifest = `
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, broadside.dev/serve: http } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: web
          image: registry.invalid/web:1
          ports: [{ containerPort: 8080 }]
          resources: { limits: { memory: 96Mi, cpu: 500m } }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop, labels: { broadside.dev/serve: http } }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
`;
