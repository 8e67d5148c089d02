package translate

import (
	"math/big"
	"regexp"
	"strings"
	"testing"
)

func TestParseMoney(t *testing.T) {
	cases := []struct {
		in, cur string
		want    int64
		err     bool
	}{
		{"29500.00", "KRW", 29500, false},
		{"0.00", "KRW", 0, false},
		{"278000", "KRW", 278000, false},
		{"-3000.00", "KRW", -3000, false},
		{"10.50", "KRW", 0, true}, // finer than a won
		{"12.34", "USD", 1234, false},
		{"12.3", "USD", 1230, false},
		{"12", "USD", 1200, false},
		{"12.340", "USD", 1234, false},
		{"12.345", "USD", 0, true},
		{"9223372036854775807", "KRW", 9223372036854775807, false},
		{"9223372036854775808", "KRW", 0, true},
		{"92233720368547758.08", "USD", 0, true},
		{"", "KRW", 0, true},
		{"-", "KRW", 0, true},
		{".50", "USD", 0, true},
		{"5.", "USD", 0, true},
		{"1,000.00", "KRW", 0, true},
		{"1e3", "KRW", 0, true},
		{" 100.00", "KRW", 0, true},
		{"+100.00", "KRW", 0, true},
		{"1.2.3", "USD", 0, true},
		{"100.00", "XXX", 0, true},
	}
	for _, c := range cases {
		got, err := ParseMoney(c.in, c.cur)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseMoney(%q, %s) = %d, %v; want %d, error %v", c.in, c.cur, got, err, c.want, c.err)
		}
	}
}

var decimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// FuzzParseMoney holds the parser to exact decimal arithmetic: whatever it
// accepts equals the string's value in minor units, and it accepts every
// well-formed amount that is exact in minor units and fits int64.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"29500.00", "0.00", "-3000.00", "12.34", "12.345", "1e3", "", ".5", "9223372036854775807", "00001.10"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, usd bool) {
		cur, digits := "KRW", 0
		if usd {
			cur, digits = "USD", 2
		}
		got, err := ParseMoney(s, cur)
		if !decimal.MatchString(s) {
			if err == nil {
				t.Fatalf("ParseMoney(%q) accepted a malformed amount as %d", s, got)
			}
			return
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big.Rat rejects %q", s)
		}
		scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)))
		exact := scaled.IsInt() && scaled.Num().IsInt64()
		if !exact {
			if err == nil {
				t.Fatalf("ParseMoney(%q, %s) = %d, want an error", s, cur, got)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseMoney(%q, %s): %v, want %s", s, cur, err, scaled.Num())
		}
		if got != scaled.Num().Int64() {
			t.Fatalf("ParseMoney(%q, %s) = %d, want %s", s, cur, got, scaled.Num())
		}
		if strings.HasPrefix(s, "-") && got > 0 {
			t.Fatalf("ParseMoney(%q) lost the sign", s)
		}
	})
}

func TestParseMoneyExtremes(t *testing.T) {
	if v, err := ParseMoney("-9223372036854775808", "KRW"); err != nil || v != -9223372036854775808 {
		t.Errorf("most negative: %d, %v", v, err)
	}
	if _, err := ParseMoney("-9223372036854775809", "KRW"); err == nil {
		t.Error("below int64: want an error")
	}
}
