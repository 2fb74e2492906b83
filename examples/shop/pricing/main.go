// pricing: quotes a rental in Go. It is an ordinary net/http handler
// compiled to WebAssembly with the stock toolchain and the wisp Go SDK;
// the daily prices and the long-rental discounts come from its [vars].
//
// Rebuild pricing.wasm with ./build.sh after changing this file.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/wisp-run/wisp/sdk/go/wisp"
)

// discount is one [[vars.DISCOUNTS]] entry: from this many days on, this
// percentage off.
type discount struct {
	FromDays int `json:"from_days"`
	Percent  int `json:"percent"`
}

type quote struct {
	SKU      string `json:"sku"`
	Days     int    `json:"days"`
	Daily    int    `json:"daily"`
	Gross    int    `json:"gross"`
	Discount int    `json:"discountPercent"`
	Net      int    `json:"net"`
	Currency string `json:"currency"`
}

// jsonVar decodes a [vars] entry that is a TOML table or array.
func jsonVar(name string, v any) error {
	s, ok := wisp.Var(name)
	if !ok {
		return fmt.Errorf("var %s is not set", name)
	}
	return json.Unmarshal([]byte(s), v)
}

func price(w http.ResponseWriter, r *http.Request) {
	sku := r.PathValue("sku")
	days := 1
	if d := r.URL.Query().Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > 365 {
			http.Error(w, `{"error":"days must be a whole number from 1 to 365"}`, http.StatusBadRequest)
			return
		}
		days = n
	}
	var prices map[string]int
	var discounts []discount
	if err := jsonVar("PRICES", &prices); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if err := jsonVar("DISCOUNTS", &discounts); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	daily, ok := prices[sku]
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"error": "no such item: " + sku})
		return
	}
	sort.Slice(discounts, func(i, j int) bool { return discounts[i].FromDays < discounts[j].FromDays })
	q := quote{SKU: sku, Days: days, Daily: daily, Gross: daily * days}
	for _, d := range discounts {
		if days >= d.FromDays {
			q.Discount = d.Percent
		}
	}
	q.Net = q.Gross * (100 - q.Discount) / 100
	q.Currency, _ = wisp.Var("CURRENCY")
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(q)
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/pricing/{sku}", price)
	wisp.Serve(mux)
}
