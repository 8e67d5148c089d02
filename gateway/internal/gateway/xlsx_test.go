package gateway

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"testing"
)

func TestConsentOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://{mall_id}.cafe24api.com/api/v2/oauth/authorize":       "https://*.cafe24api.com",
		"http://127.0.0.1:7101/malls/{mall_id}/api/v2/oauth/authorize": "http://127.0.0.1:7101",
		"::not a url": "",
	} {
		if got := consentOrigin(in); got != want {
			t.Errorf("consentOrigin(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestXLSXHoldsTheRows(t *testing.T) {
	rows := [][]cell{
		{txt("상품명"), txt("결제금액")},
		{txt(`<b>&"멋진" 셔츠` + "\x01"), num(-29500)},
		{txt("=SUM(A1)"), num(1 << 40)},
	}
	var buf bytes.Buffer
	if err := writeXLSX(&buf, "order-lines", rows); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	var sheet []byte
	for _, f := range zr.File {
		names[f.Name] = true
		rc, _ := f.Open()
		body, _ := io.ReadAll(rc)
		rc.Close()
		d := xml.NewDecoder(bytes.NewReader(body))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("%s is not well-formed XML: %v", f.Name, err)
				break
			}
		}
		if f.Name == "xl/worksheets/sheet1.xml" {
			sheet = body
		}
	}
	for _, want := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml"} {
		if !names[want] {
			t.Errorf("workbook lacks %s", want)
		}
	}
	var ws struct {
		Rows []struct {
			Cells []struct {
				Ref   string `xml:"r,attr"`
				Type  string `xml:"t,attr"`
				Value string `xml:"v"`
				Text  string `xml:"is>t"`
			} `xml:"c"`
		} `xml:"sheetData>row"`
	}
	if err := xml.Unmarshal(sheet, &ws); err != nil {
		t.Fatalf("sheet: %v", err)
	}
	if len(ws.Rows) != 3 {
		t.Fatalf("%d rows, want 3", len(ws.Rows))
	}
	c := ws.Rows[1].Cells
	if c[0].Text != `<b>&"멋진" 셔츠` || c[0].Type != "inlineStr" || c[1].Value != "-29500" || c[1].Ref != "B2" {
		t.Errorf("row 2 = %+v", c)
	}
	if ws.Rows[2].Cells[1].Value != "1099511627776" {
		t.Errorf("big number written as %q", ws.Rows[2].Cells[1].Value)
	}
	if got := columnName(27); got != "AB" {
		t.Errorf("column 27 = %s", got)
	}
	if got := csvSafe(txt("=SUM(A1)")); got != "'=SUM(A1)" {
		t.Errorf("csvSafe = %q", got)
	}
	if got := csvSafe(num(-5)); got != "-5" {
		t.Errorf("csvSafe of a number = %q", got)
	}
}
