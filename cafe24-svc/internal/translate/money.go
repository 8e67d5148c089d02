// Package translate is the one place where Cafe24's JSON becomes H-log's
// canonical records: exact money, KST times to UTC, status codes to canonical
// statuses, items to order lines with their claims and refunds.
package translate

import (
	"fmt"
	"math"
)

// minorDigits is ISO 4217's number of minor-unit digits for the currencies
// Cafe24's multi-shops sell in.
var minorDigits = map[string]int{
	"KRW": 0, "JPY": 0, "VND": 0,
	"USD": 2, "EUR": 2, "CNY": 2, "TWD": 2, "HKD": 2, "SGD": 2, "PHP": 2,
	"THB": 2, "MYR": 2, "IDR": 2, "GBP": 2, "AUD": 2, "CAD": 2,
}

// ParseMoney reads a Cafe24 amount, a decimal string such as "29500.00"
// (cafe24.md §4), into exact minor units of currency: KRW "29500.00" is
// 29500, USD "12.34" is 1234. No float is involved. It rejects anything that
// is not [-]digits[.digits], fractions finer than the currency's minor unit
// (KRW "10.50"), unknown currencies and amounts beyond int64.
func ParseMoney(s, currency string) (int64, error) {
	digits, ok := minorDigits[currency]
	if !ok {
		return 0, fmt.Errorf("amount %q: unknown currency %q", s, currency)
	}
	neg := false
	rest := s
	if len(rest) > 0 && rest[0] == '-' {
		neg, rest = true, rest[1:]
	}
	whole, frac, hasDot := rest, "", false
	for i := 0; i < len(rest); i++ {
		if rest[i] == '.' {
			whole, frac, hasDot = rest[:i], rest[i+1:], true
			break
		}
	}
	if whole == "" || (hasDot && frac == "") || !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("amount %q is not a decimal number", s)
	}
	// Accumulate the magnitude unsigned, so that the most negative int64
	// is as readable as the most positive.
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var v uint64
	add := func(d byte) error {
		n := uint64(d - '0')
		if v > (limit-n)/10 {
			return fmt.Errorf("amount %q is out of range", s)
		}
		v = v*10 + n
		return nil
	}
	for i := 0; i < len(whole); i++ {
		if err := add(whole[i]); err != nil {
			return 0, err
		}
	}
	for i := 0; i < digits; i++ {
		d := byte('0')
		if i < len(frac) {
			d = frac[i]
		}
		if err := add(d); err != nil {
			return 0, err
		}
	}
	for i := digits; i < len(frac); i++ {
		if frac[i] != '0' {
			return 0, fmt.Errorf("amount %q is finer than %s's minor unit", s, currency)
		}
	}
	if neg {
		return -int64(v-1) - 1, nil
	}
	return int64(v), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// optionalMoney parses a nullable amount; null or "" is zero.
func optionalMoney(p *string, currency string) (int64, error) {
	if p == nil || *p == "" {
		return 0, nil
	}
	return ParseMoney(*p, currency)
}
