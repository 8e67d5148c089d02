package translate

import (
	"strings"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// LineStatus maps an item's order_status (cafe24.md §4) to the canonical
// status. Unknown codes map to UNSPECIFIED; the raw code is kept beside it.
func LineStatus(code string) commercev1.OrderStatus {
	if s, ok := exactStatus[code]; ok {
		return s
	}
	if len(code) != 3 {
		return commercev1.OrderStatus_ORDER_STATUS_UNSPECIFIED
	}
	// Claims: codes below 40 are on their way (requested, accepted,
	// collecting, processing), 40 and above are done.
	done := code[1:] >= "40"
	switch code[0] {
	case 'C':
		if done {
			return commercev1.OrderStatus_ORDER_STATUS_CANCELLED
		}
		return commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS
	case 'R':
		if done {
			return commercev1.OrderStatus_ORDER_STATUS_RETURNED
		}
		return commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS
	case 'E':
		if done {
			return commercev1.OrderStatus_ORDER_STATUS_EXCHANGED
		}
		return commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS
	}
	return commercev1.OrderStatus_ORDER_STATUS_UNSPECIFIED
}

var exactStatus = map[string]commercev1.OrderStatus{
	"N00": commercev1.OrderStatus_ORDER_STATUS_AWAITING_PAYMENT,
	// N02 is listed twice in the doc; both readings (awaiting card payment)
	// mean not paid yet, as does N03 (exchange awaiting card payment).
	"N02": commercev1.OrderStatus_ORDER_STATUS_AWAITING_PAYMENT,
	"N03": commercev1.OrderStatus_ORDER_STATUS_AWAITING_PAYMENT,
	// N01 is the new item sent for an exchange: paid, being prepared.
	"N01": commercev1.OrderStatus_ORDER_STATUS_PAID,
	"N10": commercev1.OrderStatus_ORDER_STATUS_PAID,
	"N20": commercev1.OrderStatus_ORDER_STATUS_PAID,
	"N21": commercev1.OrderStatus_ORDER_STATUS_PAID,
	"N22": commercev1.OrderStatus_ORDER_STATUS_PAID,
	"N30": commercev1.OrderStatus_ORDER_STATUS_SHIPPING,
	"N40": commercev1.OrderStatus_ORDER_STATUS_DELIVERED,
	"N50": commercev1.OrderStatus_ORDER_STATUS_CONFIRMED,
	// C11: the seller refused the cancel, so the item goes on as paid.
	"C11": commercev1.OrderStatus_ORDER_STATUS_PAID,
}

// claimType reads an item's claim_type, falling back to the letter its
// order_status starts with (C, R, E).
func claimType(claimTypeField *string, orderStatus string) commercev1.ClaimType {
	code := ""
	if claimTypeField != nil {
		code = strings.ToUpper(strings.TrimSpace(*claimTypeField))
	}
	if code == "" && orderStatus != "" {
		code = orderStatus[:1]
	}
	switch {
	case strings.HasPrefix(code, "C"):
		return commercev1.ClaimType_CLAIM_TYPE_CANCEL
	case strings.HasPrefix(code, "R"):
		return commercev1.ClaimType_CLAIM_TYPE_RETURN
	case strings.HasPrefix(code, "E"):
		return commercev1.ClaimType_CLAIM_TYPE_EXCHANGE
	}
	return commercev1.ClaimType_CLAIM_TYPE_UNSPECIFIED
}

// claimState says how far an item's claim has gone: completed once its
// completion date is set, otherwise read from the item's status.
func claimState(completed bool, orderStatus string) commercev1.ClaimState {
	if completed {
		return commercev1.ClaimState_CLAIM_STATE_COMPLETED
	}
	switch {
	case orderStatus == "C11":
		return commercev1.ClaimState_CLAIM_STATE_REJECTED
	case len(orderStatus) == 3 && strings.ContainsRune("CRE", rune(orderStatus[0])) && orderStatus[1:] > "00" && orderStatus[1:] < "40":
		return commercev1.ClaimState_CLAIM_STATE_IN_PROGRESS
	}
	return commercev1.ClaimState_CLAIM_STATE_REQUESTED
}

// OrderStatus summarises an order's lines: the status of the first line that
// is not wholly cancelled, returned or exchanged, else the first line's.
func OrderStatus(lines []*commercev1.OrderLine) commercev1.OrderStatus {
	if len(lines) == 0 {
		return commercev1.OrderStatus_ORDER_STATUS_UNSPECIFIED
	}
	for _, l := range lines {
		switch l.Status {
		case commercev1.OrderStatus_ORDER_STATUS_CANCELLED, commercev1.OrderStatus_ORDER_STATUS_RETURNED, commercev1.OrderStatus_ORDER_STATUS_EXCHANGED:
			continue
		}
		return l.Status
	}
	return lines[0].Status
}
