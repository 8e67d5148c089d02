package sales

import (
	"fmt"
	"time"
)

// InputError is a caller's mistake, worded for the caller.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{msg: fmt.Sprintf(format, args...)}
}

// MaxPeriodDays bounds one request: five years of days is the longest view
// the dashboard offers, and it keeps every query's range scan bounded.
const MaxPeriodDays = 5*366 + 1

// Period is a range of local dates, both ends inclusive. Dates are held as
// UTC midnights, which makes day arithmetic exact.
type Period struct {
	Start, End time.Time
}

// ParsePeriod checks a request's "YYYY-MM-DD" dates.
func ParsePeriod(start, end string) (Period, error) {
	s, err := parseDate("start_date", start)
	if err != nil {
		return Period{}, err
	}
	e, err := parseDate("end_date", end)
	if err != nil {
		return Period{}, err
	}
	if e.Before(s) {
		return Period{}, inputErrorf("end_date %s is before start_date %s", end, start)
	}
	p := Period{Start: s, End: e}
	if p.Days() > MaxPeriodDays {
		return Period{}, inputErrorf("period %s..%s is %d days; at most %d days (5 years) per request", start, end, p.Days(), MaxPeriodDays)
	}
	return p, nil
}

func parseDate(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, inputErrorf("%s is required, as YYYY-MM-DD", field)
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil || d.Format(time.DateOnly) != v {
		return time.Time{}, inputErrorf("%s %q is not a date; use YYYY-MM-DD", field, v)
	}
	if d.Year() < 1970 || d.Year() > 9000 {
		return time.Time{}, inputErrorf("%s %s is out of range", field, v)
	}
	return d, nil
}

// Days is the number of days in the period.
func (p Period) Days() int { return int(p.End.Sub(p.Start).Hours()/24) + 1 }

// Previous is the period of the same length just before p.
func (p Period) Previous() Period {
	end := p.Start.AddDate(0, 0, -1)
	return Period{Start: end.AddDate(0, 0, -(p.Days() - 1)), End: end}
}

// StartDate and EndDate are the period's ends as "YYYY-MM-DD".
func (p Period) StartDate() string { return p.Start.Format(time.DateOnly) }
func (p Period) EndDate() string   { return p.End.Format(time.DateOnly) }

// Granularity is the size of a time-series bucket.
type Granularity int

const (
	Day Granularity = iota + 1
	Week
	Month
	Year
)

// bucketStart is the first day of the (unclipped) bucket holding d.
func bucketStart(d time.Time, g Granularity) time.Time {
	switch g {
	case Week:
		sinceMonday := (int(d.Weekday()) + 6) % 7
		return d.AddDate(0, 0, -sinceMonday)
	case Month:
		return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
	case Year:
		return time.Date(d.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return d
}

// nextBucket is the first day of the bucket after the one starting at start.
func nextBucket(start time.Time, g Granularity) time.Time {
	switch g {
	case Week:
		return start.AddDate(0, 0, 7)
	case Month:
		return start.AddDate(0, 1, 0)
	case Year:
		return start.AddDate(1, 0, 0)
	}
	return start.AddDate(0, 0, 1)
}

// label names the bucket starting at start: "2024-01-15", "2024-W03"
// (ISO year and week), "2024-01", "2024".
func label(start time.Time, g Granularity) string {
	switch g {
	case Week:
		y, w := start.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case Month:
		return start.Format("2006-01")
	case Year:
		return start.Format("2006")
	}
	return start.Format(time.DateOnly)
}
