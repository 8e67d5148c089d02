package sandbox

import (
	"fmt"
	"net/http"
	"time"

	"github.com/xuri/excelize/v2"
)

// ExcelHeader is the order Excel's header row. ably.md "Pages and Excel":
// headers include 상품주문번호, 상품명, 옵션 정보, 주문자명, 연락처, 결제일;
// there is no order-status column. The date columns after 결제일 are the
// sandbox's choice, so that a status can be derived.
var ExcelHeader = []string{"상품주문번호", "주문번호", "주문일", "결제일", "발송일", "배송완료일", "구매확정일",
	"상품번호", "상품명", "옵션번호", "옵션 정보", "수량", "판매가", "옵션가", "할인금액", "결제금액", "배송비",
	"회원번호", "주문자명", "연락처", "송장번호"}

// excelHeaderRow is where the header sits: below a title, the period and a
// blank row, never on row 1 (ably.md).
const excelHeaderRow = 4

// excelSlack is how many days before start_date the file also covers: the
// real file "can contain older orders than the screen filter" (ably.md).
const excelSlack = 3

// orderExcel is the "전체 주문 엑셀 다운로드" file for start_date..end_date.
func (s *Sandbox) orderExcel(w http.ResponseWriter, r *http.Request, _ *seller, v *view) {
	from, to, err := dateRange(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	rows := v.itemsBetween("ordered_at", from.AddDate(0, 0, -excelSlack), to)
	f := excelize.NewFile()
	defer f.Close()
	sheet := "주문내역"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		apiError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	put := func(row int, values ...any) error {
		cell, err := excelize.CoordinatesToCellName(1, row)
		if err != nil {
			return err
		}
		return sw.SetRow(cell, values)
	}
	header := make([]any, len(ExcelHeader))
	for i, h := range ExcelHeader {
		header[i] = h
	}
	opt := func(p *string) any {
		if p == nil {
			return ""
		}
		return *p
	}
	err = put(1, "에이블리 파트너센터 전체 주문 내역")
	if err == nil {
		err = put(2, fmt.Sprintf("조회기간: %s ~ %s (다운로드 %s)", from.Format(time.DateOnly), to.Format(time.DateOnly), date(v.at)))
	}
	if err == nil {
		err = put(excelHeaderRow, header...)
	}
	for i, it := range rows {
		if err != nil {
			break
		}
		err = put(excelHeaderRow+1+i, fmt.Sprint(it.Sno), fmt.Sprint(it.OrderSno), it.OrderedAt, opt(it.CheckedAt), opt(it.SentAt),
			opt(it.DeliveredAt), opt(it.ConfirmedAt), fmt.Sprint(it.GoodsSno), it.GoodsName, fmt.Sprint(it.OptionSno), it.OptionInfo,
			it.Ea, it.Price, it.OptionPrice, it.DiscountPrice, it.PaymentPrice, it.DeliveryFee, fmt.Sprint(it.UserSno),
			it.BuyerName, it.BuyerTel, opt(it.Invoice))
	}
	if err == nil {
		err = sw.Flush()
	}
	if err != nil {
		apiError(w, http.StatusInternalServerError, "internal", "writing the Excel file: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="orders_%s_%s.xlsx"`, from.Format("20060102"), to.Format("20060102")))
	_ = f.Write(w)
}
