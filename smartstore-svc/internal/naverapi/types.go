package naverapi

import (
	"encoding/json"
	"fmt"
	"time"
)

// KST is Korea Standard Time, the zone of every Commerce API date.
var KST = time.FixedZone("KST", 9*60*60)

// DateLayout is the API's date-time shape, yyyy-MM-dd'T'HH:mm:ss.SSSXXX
// (smartstore.md §3). Query parameters carry the "+" of +09:00 encoded once
// as %2B, which url.Values does.
const DateLayout = "2006-01-02T15:04:05.000-07:00"

// FormatTime renders t for a query parameter.
func FormatTime(t time.Time) string { return t.In(KST).Format(DateLayout) }

// Time is a Commerce API date-time. It reads the documented shape and, to be
// lenient with what the API sends, any RFC 3339 date-time.
type Time struct{ time.Time }

// ParseTime reads one date-time.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(DateLayout, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date-time %q is not yyyy-MM-ddTHH:mm:ss.SSS+09:00", s)
	}
	return t, nil
}

func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date-time: %w", err)
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	v, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// ChangeStatus is one row of last-changed-statuses (smartstore.md §3).
type ChangeStatus struct {
	OrderID            string `json:"orderId"`
	ProductOrderID     string `json:"productOrderId"`
	LastChangedType    string `json:"lastChangedType"`
	LastChangedDate    Time   `json:"lastChangedDate"`
	PaymentDate        Time   `json:"paymentDate"`
	ProductOrderStatus string `json:"productOrderStatus"`
	ClaimType          string `json:"claimType"`
	ClaimStatus        string `json:"claimStatus"`
}

// More is the paging hint of last-changed-statuses: absent on the last page.
type More struct {
	MoreFrom     Time   `json:"moreFrom"`
	MoreSequence string `json:"moreSequence"`
}

// ChangedPage is one page of last-changed-statuses.
type ChangedPage struct {
	Statuses []ChangeStatus `json:"lastChangeStatuses"`
	Count    int            `json:"count"`
	More     *More          `json:"more"`
}

// ProductOrder is one product order with its order, delivery and claims, as
// the query API and the conditional search return it (smartstore.md §4).
// Buyer personal data in the response is deliberately not decoded.
type ProductOrder struct {
	Order struct {
		OrderID              string `json:"orderId"`
		OrderDate            Time   `json:"orderDate"`
		PaymentDate          Time   `json:"paymentDate"`
		OrdererID            string `json:"ordererId"`
		GeneralPaymentAmount *int64 `json:"generalPaymentAmount"`
	} `json:"order"`
	ProductOrder struct {
		ProductOrderID        string `json:"productOrderId"`
		ProductOrderStatus    string `json:"productOrderStatus"`
		ClaimType             string `json:"claimType"`
		ClaimStatus           string `json:"claimStatus"`
		ClaimID               string `json:"claimId"`
		DecisionDate          Time   `json:"decisionDate"`
		ProductID             string `json:"productId"`
		OriginalProductID     string `json:"originalProductId"`
		ProductName           string `json:"productName"`
		ProductOption         string `json:"productOption"`
		OptionCode            string `json:"optionCode"`
		OptionPrice           int64  `json:"optionPrice"`
		Quantity              int32  `json:"quantity"`
		InitialQuantity       *int32 `json:"initialQuantity"`
		RemainQuantity        *int32 `json:"remainQuantity"`
		UnitPrice             int64  `json:"unitPrice"`
		TotalProductAmount    int64  `json:"totalProductAmount"`
		InitialProductAmount  *int64 `json:"initialProductAmount"`
		ProductDiscountAmount int64  `json:"productDiscountAmount"`
		InitialDiscount       *int64 `json:"initialProductDiscountAmount"`
		TotalPaymentAmount    int64  `json:"totalPaymentAmount"`
		InitialPaymentAmount  *int64 `json:"initialPaymentAmount"`
		RemainPaymentAmount   *int64 `json:"remainPaymentAmount"`
		DeliveryFeeAmount     int64  `json:"deliveryFeeAmount"`
	} `json:"productOrder"`
	Delivery *struct {
		DeliveryStatus string `json:"deliveryStatus"`
		SendDate       Time   `json:"sendDate"`
		DeliveredDate  Time   `json:"deliveredDate"`
	} `json:"delivery"`
	Cancel   *Claim `json:"cancel"`
	Return   *Claim `json:"return"`
	Exchange *Claim `json:"exchange"`
}

// Claim is a cancel, return or exchange of a product order. Each kind names
// its completion date differently.
type Claim struct {
	ClaimID               string `json:"claimId"`
	ClaimStatus           string `json:"claimStatus"`
	ClaimRequestDate      Time   `json:"claimRequestDate"`
	RequestQuantity       *int32 `json:"requestQuantity"`
	CancelCompletedDate   Time   `json:"cancelCompletedDate"`
	ReturnCompletedDate   Time   `json:"returnCompletedDate"`
	ExchangeCompletedDate Time   `json:"exchangeCompletedDate"`
}

// SearchPage is one page of the conditional search.
type SearchPage struct {
	Contents []struct {
		ProductOrderID string       `json:"productOrderId"`
		Content        ProductOrder `json:"content"`
	} `json:"contents"`
	Pagination struct {
		Page    int  `json:"page"`
		Size    int  `json:"size"`
		HasNext bool `json:"hasNext"`
	} `json:"pagination"`
}

// ProductPage is one page of the products search (not wrapped in data).
type ProductPage struct {
	Contents []struct {
		OriginProductNo json.Number      `json:"originProductNo"`
		ChannelProducts []ChannelProduct `json:"channelProducts"`
	} `json:"contents"`
	Page          int  `json:"page"`
	Size          int  `json:"size"`
	TotalElements int  `json:"totalElements"`
	TotalPages    int  `json:"totalPages"`
	Last          bool `json:"last"`
}

// ChannelProduct is a product as one sales channel shows it.
type ChannelProduct struct {
	OriginProductNo      json.Number `json:"originProductNo"`
	ChannelProductNo     json.Number `json:"channelProductNo"`
	CategoryID           string      `json:"categoryId"`
	Name                 string      `json:"name"`
	SellerManagementCode string      `json:"sellerManagementCode"`
	StatusType           string      `json:"statusType"`
	DisplayStatusType    string      `json:"channelProductDisplayStatusType"`
	SalePrice            int64       `json:"salePrice"`
	WholeCategoryID      string      `json:"wholeCategoryId"`
	RegDate              Time        `json:"regDate"`
	ModifiedDate         Time        `json:"modifiedDate"`
}

// OriginProduct is GET /v2/products/origin-products/{no}, as far as options go.
type OriginProduct struct {
	OriginProduct struct {
		StatusType      string `json:"statusType"`
		DetailAttribute struct {
			OptionInfo *struct {
				GroupNames   map[string]string `json:"optionCombinationGroupNames"`
				Combinations []struct {
					ID            json.Number `json:"id"`
					OptionName1   string      `json:"optionName1"`
					OptionName2   string      `json:"optionName2"`
					OptionName3   string      `json:"optionName3"`
					OptionName4   string      `json:"optionName4"`
					StockQuantity *int64      `json:"stockQuantity"`
					Price         int64       `json:"price"`
					Usable        bool        `json:"usable"`
				} `json:"optionCombinations"`
			} `json:"optionInfo"`
		} `json:"detailAttribute"`
	} `json:"originProduct"`
}

// Category is one element of GET /v1/categories.
type Category struct {
	WholeCategoryName string `json:"wholeCategoryName"`
	ID                string `json:"id"`
	Name              string `json:"name"`
	Last              bool   `json:"last"`
}

// DecodeChangedPage reads a last-changed-statuses answer.
func DecodeChangedPage(b []byte) (*ChangedPage, error) {
	var env struct {
		Data *ChangedPage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("decoding last-changed statuses: %w", err)
	}
	if env.Data == nil {
		return nil, fmt.Errorf("decoding last-changed statuses: no data")
	}
	return env.Data, nil
}

// DecodeProductOrders reads a query answer.
func DecodeProductOrders(b []byte) ([]ProductOrder, error) {
	var env struct {
		Data []ProductOrder `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("decoding product orders: %w", err)
	}
	return env.Data, nil
}

// DecodeSearchPage reads a conditional search answer.
func DecodeSearchPage(b []byte) (*SearchPage, error) {
	var env struct {
		Data *SearchPage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("decoding product order search: %w", err)
	}
	if env.Data == nil {
		return nil, fmt.Errorf("decoding product order search: no data")
	}
	return env.Data, nil
}
