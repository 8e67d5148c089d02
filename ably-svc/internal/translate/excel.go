package translate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// excelColumns are the order Excel's headers the collector reads. ably.md
// "Pages and Excel": the header row is not always row 1 and there is no
// order-status column; buyer name and phone columns are never read.
var excelColumns = []string{"상품주문번호", "주문번호", "주문일", "결제일", "발송일", "배송완료일", "구매확정일",
	"상품번호", "상품명", "옵션번호", "옵션 정보", "수량", "판매가", "옵션가", "할인금액", "결제금액", "배송비", "회원번호"}

// headerSearchRows is how far down the header row is looked for.
const headerSearchRows = 30

// ExcelItems reads the order Excel into order items without a status (the
// file has none). It finds the header row by its 상품주문번호 cell.
func ExcelItems(file []byte) ([]OrderItem, error) {
	f, err := excelize.OpenReader(bytes.NewReader(file))
	if err != nil {
		return nil, fmt.Errorf("opening the order Excel: %w", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("the order Excel has no sheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("reading the order Excel: %w", err)
	}
	defer rows.Close()
	col := map[string]int{}
	var items []OrderItem
	n := 0
	for rows.Next() {
		n++
		cells, err := rows.Columns()
		if err != nil {
			return nil, fmt.Errorf("reading row %d of the order Excel: %w", n, err)
		}
		if len(col) == 0 {
			if n > headerSearchRows {
				return nil, fmt.Errorf("%w: no 상품주문번호 header in the first %d rows of the order Excel", ErrLayout, headerSearchRows)
			}
			for i, c := range cells {
				col[strings.TrimSpace(c)] = i
			}
			if _, ok := col["상품주문번호"]; !ok {
				clear(col)
				continue
			}
			for _, want := range excelColumns {
				if _, ok := col[want]; !ok {
					return nil, fmt.Errorf("%w: the order Excel has no %s column", ErrLayout, want)
				}
			}
			continue
		}
		get := func(name string) string {
			if i := col[name]; i < len(cells) {
				return strings.TrimSpace(cells[i])
			}
			return ""
		}
		if get("상품주문번호") == "" {
			continue // blank or footer row
		}
		it, err := excelItem(get)
		if err != nil {
			return nil, fmt.Errorf("order Excel row %d: %w", n, err)
		}
		items = append(items, it)
	}
	if err := rows.Error(); err != nil {
		return nil, fmt.Errorf("reading the order Excel: %w", err)
	}
	if len(col) == 0 {
		return nil, fmt.Errorf("%w: no 상품주문번호 header in the order Excel", ErrLayout)
	}
	return items, nil
}

func excelItem(get func(string) string) (OrderItem, error) {
	it := OrderItem{
		Sno: json.Number(get("상품주문번호")), OrderSno: json.Number(get("주문번호")), OrderedAt: get("주문일"),
		GoodsSno: json.Number(get("상품번호")), GoodsName: get("상품명"), OptionSno: json.Number(get("옵션번호")),
		OptionInfo: get("옵션 정보"), UserSno: json.Number(get("회원번호")),
	}
	opt := func(name string) *string {
		if v := get(name); v != "" {
			return &v
		}
		return nil
	}
	it.CheckedAt, it.SentAt, it.DeliveredAt, it.ConfirmedAt = opt("결제일"), opt("발송일"), opt("배송완료일"), opt("구매확정일")
	ints := []struct {
		name string
		dst  *int64
	}{{"판매가", &it.Price}, {"옵션가", &it.OptionPrice}, {"할인금액", &it.DiscountPrice}, {"결제금액", &it.PaymentPrice}, {"배송비", &it.DeliveryFee}}
	for _, c := range ints {
		v, err := wonCell(get(c.name))
		if err != nil {
			return OrderItem{}, fmt.Errorf("%s: %w", c.name, err)
		}
		*c.dst = v
	}
	ea, err := strconv.ParseInt(get("수량"), 10, 32)
	if err != nil {
		return OrderItem{}, fmt.Errorf("수량 %q is not a whole number", get("수량"))
	}
	it.Ea = int32(ea)
	return it, nil
}

// wonCell reads a whole-won amount such as "29900" or "29,900", exactly.
func wonCell(s string) (int64, error) {
	s = strings.ReplaceAll(strings.TrimSuffix(strings.TrimSpace(s), "원"), ",", "")
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number of won", s)
	}
	return v, nil
}
