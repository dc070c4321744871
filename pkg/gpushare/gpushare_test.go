package gpushare

import (
	"strings"
	"testing"
)

func TestParseShare(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{in: "1", want: 1},
		{in: " 999 ", want: 999},
		{in: "0", err: `placer.dev/gpu-milli="0": want a share of one GPU in thousandths, 1 to 999`},
		{in: "1000", err: "1 to 999"},
		{in: "half", err: `"half"`},
		{in: "", err: `""`},
	} {
		got, err := ParseShare(ShareAnnotation, tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseShare(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseShare(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestDevicesRoundTrip(t *testing.T) {
	got, err := ParseDevices(DeviceAnnotation, FormatDevices([]int{3, 0, 7}), 8)
	if err != nil || FormatDevices(got) != "3,0,7" {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	for _, bad := range []string{"", "8", "-1", "1,1", "a", "1,,2"} {
		if _, err := ParseDevices(DeviceAnnotation, bad, 8); err == nil || !strings.Contains(err.Error(), "0 to 7") {
			t.Errorf("ParseDevices(%q) = %v; want an error naming the range", bad, err)
		}
	}
}

func TestParseModels(t *testing.T) {
	got, err := ParseModels(ModelsAnnotation, "V100M16| V100M32")
	if err != nil || len(got) != 2 || got[1] != "V100M32" {
		t.Fatalf("ParseModels = %v, %v", got, err)
	}
	if _, err := ParseModels(ModelsAnnotation, "V100M16||T4"); err == nil || !strings.Contains(err.Error(), "none empty") {
		t.Errorf("an empty model: %v", err)
	}
}
