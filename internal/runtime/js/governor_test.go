package js

import "testing"

// TestGovernorHeadroom: between collections the governor forces one only
// when the bytes allocated since the last could put some instance past
// its limit; the headroom is the smallest limit minus what that instance
// held (the profile's figure when it was read, else the whole live heap).
func TestGovernorHeadroom(t *testing.T) {
	const mb = 1 << 20
	type slot struct{ limit, inuse int64 }
	tests := []struct {
		name    string
		slots   []slot
		live    int64
		scanned bool
		want    int64
	}{
		{name: "no instance", live: 500 * mb, want: 1 << 62},
		{name: "not scanned: the live heap bounds every instance", slots: []slot{{128 * mb, 0}, {64 * mb, 0}}, live: 40 * mb, want: 24 * mb},
		{name: "scanned: many small instances leave the limit", slots: []slot{{128 * mb, mb / 10}, {128 * mb, mb / 5}}, live: 140 * mb, scanned: true, want: 128*mb - mb/5},
		{name: "scanned: the fullest instance sets it", slots: []slot{{128 * mb, 100 * mb}, {64 * mb, 10 * mb}}, live: 140 * mb, scanned: true, want: 28 * mb},
		{name: "an instance over its limit leaves none", slots: []slot{{64 * mb, 70 * mb}}, live: 80 * mb, scanned: true, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &memGovernor{}
			for i, s := range tt.slots {
				g.slots[i+1] = &memSlot{id: i + 1, limit: s.limit}
				g.inuse[i+1] = s.inuse
			}
			if got := g.headroom(tt.live, tt.scanned); got != tt.want {
				t.Errorf("headroom(%d MB, scanned %v) = %d, want %d", tt.live/mb, tt.scanned, got, tt.want)
			}
		})
	}
}
