package membership

import (
	"context"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
)

// ReasonForcedChange is the reason of the Event a forced join records on the MemberCluster it
// moved to another network or segment, or pointed at another cluster.
const ReasonForcedChange = "ForcedChange"

// eventNamespace holds the Events of cluster-scoped objects such as MemberClusters, as
// client-go's event recorders do.
const eventNamespace = metav1.NamespaceDefault

// reportChanges prints each change a forced join made to member name and records them as one
// Warning Event on its MemberCluster.
func reportChanges(ctx context.Context, hub client.Client, name string, changes []Change, out io.Writer) error {
	if len(changes) == 0 {
		return nil
	}
	for _, c := range changes {
		if _, err := fmt.Fprintf(out, "%-7s MemberCluster/%s %s (forced)\n", "hub", name, c); err != nil {
			return err
		}
	}
	var mc meshfedv1.MemberCluster
	if err := hub.Get(ctx, client.ObjectKey{Name: name}, &mc); err != nil {
		return fmt.Errorf("failed to read membercluster %s on the hub: %w", name, err)
	}
	if err := hub.Create(ctx, forcedChangeEvent(&mc, changes, time.Now())); err != nil {
		return fmt.Errorf("failed to record the forced change of membercluster %s: %w", name, err)
	}
	return nil
}

// forcedChangeEvent is the Warning Event recording changes on mc.
func forcedChangeEvent(mc *meshfedv1.MemberCluster, changes []Change, now time.Time) *corev1.Event {
	t := metav1.NewTime(now)
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: mc.Name + ".", Namespace: eventNamespace},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: meshfedv1.GroupVersion.String(), Kind: "MemberCluster", Name: mc.Name, UID: mc.UID, ResourceVersion: mc.ResourceVersion,
		},
		Type:           corev1.EventTypeWarning,
		Reason:         ReasonForcedChange,
		Message:        "meshfedctl join --force changed " + joinChanges(changes),
		Source:         corev1.EventSource{Component: FieldManager},
		FirstTimestamp: t, LastTimestamp: t, Count: 1,
		ReportingController: "meshfed.io/meshfedctl", ReportingInstance: FieldManager,
	}
}
